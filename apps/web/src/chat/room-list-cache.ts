import type { Message, Room, RoomSummary } from '@chat/protocol';
import { mentions } from './format';

interface IncomingOptions {
  userId: string;
  activeRoomId: string | undefined;
  /** The viewer's username: a counted message naming them raises the room's mention count too. */
  username?: string;
}

/**
 * The room list after a message arrived, or undefined when the room is not in it (the caller refetches).
 * Unread grows only for others' messages above the known `lastSeq`, so messages replayed by a sync after
 * the list was fetched are not counted twice.
 */
export function withIncomingMessage(rooms: RoomSummary[], message: Message, opts: IncomingOptions): RoomSummary[] | undefined {
  const room = rooms.find((r) => r.id === message.roomId);
  if (!room) return undefined;
  const isNew = message.seq > room.lastSeq;
  const counts = isNew && message.senderId !== opts.userId && message.roomId !== opts.activeRoomId;
  const mentioned = counts && !message.deleted && opts.username !== undefined && mentions(message.content, opts.username);
  const isLatest = !room.lastMessage || message.seq >= room.lastMessage.seq;
  const next: RoomSummary = {
    ...room,
    lastSeq: Math.max(room.lastSeq, message.seq),
    unread: counts ? room.unread + 1 : room.unread,
    ...(mentioned ? { mentions: (room.mentions ?? 0) + 1 } : {}),
    ...(isLatest ? { lastMessage: message } : {}),
  };
  return rooms.map((r) => (r === room ? next : r));
}

/**
 * A room list fresh from the server, with the live messages it does not know yet: a list the server built
 * a moment before a message was committed can arrive after the socket delivered that message, and would
 * otherwise take its unread and mention counts away again.
 */
export function withLiveMessages(rooms: RoomSummary[], newer: (roomId: string, afterSeq: number) => readonly Message[], opts: IncomingOptions): RoomSummary[] {
  let out = rooms;
  for (const room of rooms) {
    for (const m of newer(room.id, room.lastSeq)) out = withIncomingMessage(out, m, opts) ?? out;
  }
  return out;
}

export function withRoomRead(rooms: RoomSummary[], roomId: string): RoomSummary[] {
  return rooms.map((r) => (r.id === roomId && r.unread > 0 ? { ...r, unread: 0, readSeq: r.lastSeq } : r));
}

/**
 * A room list fresh from the server, with what this client has already read applied: the server moves a
 * read cursor a moment after `message:read` (receipts are coalesced per window), so a list fetched in that
 * moment still counts messages the user has seen, and would raise a badge the user already cleared.
 */
export function withLocalReads(rooms: RoomSummary[], readUpTo: (roomId: string) => number): RoomSummary[] {
  let changed = false;
  const next = rooms.map((r) => {
    const seq = readUpTo(r.id);
    if (seq <= r.readSeq) return r;
    changed = true;
    return { ...r, readSeq: Math.min(seq, r.lastSeq), unread: seq >= r.lastSeq ? 0 : r.unread };
  });
  return changed ? next : rooms;
}

/**
 * Whether the rooms `hello` lists (every room the user belongs to when the socket connected) are other rooms than
 * the list's: rooms joined or left while this client was away (a direct room opened by someone else, a kick)
 * reach it by no event, so the list is fetched again. The same rooms: nothing to fetch (the common reconnect).
 */
export function roomsChangedSince(rooms: readonly RoomSummary[], hello: readonly { roomId: string }[]): boolean {
  if (rooms.length !== hello.length) return true;
  const listed = new Set(rooms.map((r) => r.id));
  return hello.some((r) => !listed.has(r.roomId));
}

export function withoutRoom(rooms: RoomSummary[], roomId: string): RoomSummary[] {
  return rooms.filter((r) => r.id !== roomId);
}

/** Most recent activity first. */
export function sortedRooms(rooms: RoomSummary[]): RoomSummary[] {
  const activity = (r: RoomSummary) => Date.parse(r.lastMessage?.createdAt ?? r.createdAt);
  return [...rooms].sort((a, b) => activity(b) - activity(a));
}

/** The list with a room's new name and topic (`room:updated`); a topic that was cleared is gone. */
export function withRoomUpdate(rooms: RoomSummary[], room: Room): RoomSummary[] {
  return rooms.map((r) => {
    if (r.id !== room.id) return r;
    const { topic: _old, ...rest } = r;
    return room.topic === undefined ? { ...rest, name: room.name } : { ...rest, name: room.name, topic: room.topic };
  });
}

/** Unread mentions per room from a fetched list; a room with nothing unread (read here since) has none. */
export function mentionCounts(rooms: readonly RoomSummary[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rooms) if (r.unread > 0 && (r.mentions ?? 0) > 0) out[r.id] = r.mentions!;
  return out;
}
