import { HTTP_ROUTES, PROTOCOL_VERSION, roomChannel, roomIdsOf, type Room } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { currentMembers } from '../../membership/member-queries';
import { HelloRecheck } from './hello-recheck';
import { RoomChanges } from './room-changes';
import { discoverRooms, lastSeqsOf, listRoomSummaries } from './room-queries';

/** Sockets connected within this window share the read that checks their `hello` (features/rooms/hello-recheck.ts). */
const HELLO_RECHECK_WINDOW_MS = 100;

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

  // A message committed, or a room joined, while a socket was in its handshake reached neither `hello` nor the
  // socket: its rooms' last seqs are read again after the connect, and where one moved or a room is new `hello`
  // comes again (docs/PROTOCOL.md "Connecting"); the client syncs what it is behind in.
  const recheck = new HelloRecheck({
    windowMs: HELLO_RECHECK_WINDOW_MS,
    lastSeqs: (roomIds) => lastSeqsOf(db.primary, roomIds),
    onError: (err) => app.log.warn({ err }, "connected sockets' rooms not read again; a message sent during their handshake waits for the next one"),
  });
  app.addHook('onClose', async () => recheck.close());

  app.socketEvents.onConnected((socket) => {
    const read = socket.data.rooms;
    // Only `hello` needs the list: an idle socket should not hold a copy of its rooms for its whole life.
    socket.data.rooms = [];
    const hello = { userId: socket.data.userId, node: app.config.nodeId, protocol: PROTOCOL_VERSION } as const;
    socket.emit('hello', { ...hello, rooms: read });
    // The rooms as they are at the check: one left since is not listed; one joined since connecting also came
    // with `room:joined` (a second `hello` for it alone is harmless); one joined during the handshake came with nothing.
    recheck.add({
      read,
      rooms: () => roomIdsOf(socket.rooms),
      moved: (rooms) => {
        if (socket.connected) socket.emit('hello', { ...hello, rooms });
      },
    });
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
