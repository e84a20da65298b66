/**
 * The server's Socket.IO room names, built and parsed only here. A socket is in `roomChannel(id)` exactly
 * when its user is a member of the room; `userChannel` holds every socket of a user, `sessionChannel`
 * every socket opened with one session's tokens.
 */

const ROOM = 'room:';

export const roomChannel = (roomId: string): string => `${ROOM}${roomId}`;
export const userChannel = (userId: string): string => `user:${userId}`;
export const sessionChannel = (sessionId: string): string => `session:${sessionId}`;

/** The room id of a room channel; undefined for any other channel (a user's, a session's, the socket's own). */
export function parseRoomChannel(channel: string): string | undefined {
  return channel.startsWith(ROOM) ? channel.slice(ROOM.length) : undefined;
}

/** The ids of the rooms among a socket's channels (`socket.rooms`). */
export function roomIdsOf(channels: Iterable<string>): string[] {
  const ids: string[] = [];
  for (const channel of channels) {
    const id = parseRoomChannel(channel);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}
