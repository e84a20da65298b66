import { HTTP_ROUTES, PROTOCOL_VERSION, roomChannel, roomIdsOf, type Room } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { SingleFlight } from '../../infra/single-flight';
import { currentMembers } from '../../membership/member-queries';
import { RoomChanges } from './room-changes';
import { discoverRooms, lastSeqsOf, listRoomSummaries } from './room-queries';

async function rooms(app: FastifyInstance): Promise<void> {
  const { db, membership } = app;
  const changes = new RoomChanges(db, membership);
  const announceJoined = async (room: Room, userId: string, online: boolean) =>
    membership.announceJoin(room, await membership.memberView(room.id, userId, online));
  const isOnline = async (userId: string) => (await app.presenceOf([userId])).get(userId) ?? false;

  // At connect: join every room the user belongs to (read with the session check, `socket.data.rooms`).
  app.socketEvents.onConnecting(async (socket) => {
    socket.join(socket.data.rooms.map((r) => roomChannel(r.roomId)));
  });

  // The rooms' last seqs read again once a socket is connected, for every socket that asked in the same turn (a
  // herd's connections come several to a turn; a caller never joins a read already sent, infra/single-flight.ts).
  const lastSeqs = new SingleFlight<string, number>((roomIds) => lastSeqsOf(db.primary, roomIds), { keyOf: (roomId) => roomId, maxBatch: 1000 });

  app.socketEvents.onConnected(async (socket) => {
    const read = socket.data.rooms;
    // Only `hello` needs the list: an idle socket should not hold a copy of its rooms for its whole life.
    socket.data.rooms = [];
    const hello = { userId: socket.data.userId, node: app.config.nodeId, protocol: PROTOCOL_VERSION } as const;
    socket.emit('hello', { ...hello, rooms: read });
    if (read.length === 0) return;
    // A message committed after the handshake read the rooms and broadcast before the socket was connected
    // reached neither `hello` nor the socket (Socket.IO broadcasts to connected sockets only). Read again now,
    // a room's last seq covers every message the socket did not get live; where one moved, `hello` comes again
    // and the client syncs what it is behind in (docs/PROTOCOL.md "Connecting", docs/ARCHITECTURE.md).
    let now: number[];
    try {
      now = await Promise.all(read.map((r) => lastSeqs.run(r.roomId)));
    } catch (err) {
      app.log.warn({ err, socketId: socket.id }, 'rooms not read again after the connect; a message sent during it waits for the next one');
      return;
    }
    if (!socket.connected || !read.some((r, i) => now[i]! > r.lastSeq)) return;
    // The rooms as they are now (one left since is not listed; one joined since came with `room:joined`, and 0
    // says only that its seq is at least that).
    const moved = new Map(read.map((r, i) => [r.roomId, Math.max(r.lastSeq, now[i]!)]));
    socket.emit('hello', { ...hello, rooms: roomIdsOf(socket.rooms).map((roomId) => ({ roomId, lastSeq: moved.get(roomId) ?? 0 })) });
  });

  route(app, HTTP_ROUTES.listRooms, async (_input, { user }) => ({ rooms: await listRoomSummaries(app.reads.reader(user.userId), user.userId) }));

  route(app, HTTP_ROUTES.createRoom, async ({ body }, { user }) => {
    const room = await changes.create(user.userId, body.name, body.type);
    await announceJoined(room, user.userId, true);
    return { room };
  });

  route(app, HTTP_ROUTES.directRoom, async ({ body: { userId: otherId } }, { user }, reply) => {
    const { room, created, rejoined } = await changes.openDirect(user, otherId);
    const joined = created ? [user.userId, otherId] : rejoined;
    const online = joined.length > 0 ? await app.presenceOf(joined) : new Map<string, boolean>();
    for (const userId of joined) await announceJoined(room, userId, online.get(userId) ?? false);
    return created ? { room } : reply.status(200).send({ room });
  });

  route(app, HTTP_ROUTES.discoverRooms, async ({ query: { query } }, { user }) => ({ rooms: await discoverRooms(app.reads.reader(user.userId), query) }));

  route(app, HTTP_ROUTES.joinRoom, async ({ params: { roomId } }, { user }, reply) => {
    const outcome = await changes.join(roomId, user.userId);
    if (outcome.kind === 'requested') return reply.status(202).send({ joinRequest: outcome.joinRequest });
    if (outcome.kind === 'joined') await announceJoined(outcome.room, user.userId, await isOnline(user.userId));
    return { room: outcome.room };
  });

  route(app, HTTP_ROUTES.leaveRoom, async ({ params: { roomId } }, { user }) => {
    await changes.leave(roomId, user.userId);
    await membership.announceLeave(roomId, user.userId);
  });

  route(app, HTTP_ROUTES.members, async ({ params: { roomId } }, { user }) => {
    await membership.requireMember(user.userId, roomId);
    return { members: await currentMembers(app.reads.reader(user.userId, roomId), roomId, (userIds) => app.presenceOf(userIds)) };
  });
}

export const roomsFeature = fp(rooms, { name: 'rooms', dependencies: ['membership', 'auth', 'presence'] });
