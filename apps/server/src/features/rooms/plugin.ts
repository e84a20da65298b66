import { randomUUID } from 'node:crypto';
import { ChatError, HTTP_ROUTES, PROTOCOL_VERSION, roomChannel, type Member } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { toRoom } from '../../views/room-view';
import { Membership } from './membership';
import { listRoomSummaries } from './room-list';
import { lockMembership } from './membership-lock';

declare module 'fastify' {
  interface FastifyInstance {
    membership: Membership;
  }
}

const ROOM_COLUMNS = ['id', 'name', 'type', 'created_at'] as const;

async function rooms(app: FastifyInstance): Promise<void> {
  const { db } = app;
  const membership = new Membership(db, app.io, (userIds) => app.reads.fence(userIds));
  app.decorate('membership', membership);

  // At connect: join every room the user belongs to. A failure here refuses the connection (UNAVAILABLE)
  // rather than leaving a socket connected but deaf to its rooms.
  app.socketEvents.onConnecting(async (socket) => {
    let rows: { room_id: string; last_seq: number }[];
    try {
      rows = await db.primary
        .selectFrom('room_members as m')
        .innerJoin('rooms as r', 'r.id', 'm.room_id')
        .select(['m.room_id', 'r.last_seq'])
        .where('m.user_id', '=', socket.data.userId)
        .where('m.left_at', 'is', null)
        .execute();
    } catch (err) {
      app.log.error({ err, userId: socket.data.userId }, 'loading memberships at connect failed');
      throw new ChatError('UNAVAILABLE', 'cannot load rooms, try again');
    }
    socket.join(rows.map((r) => roomChannel(r.room_id)));
    socket.data.rooms = rows.map((r) => ({ roomId: r.room_id, lastSeq: r.last_seq }));
  });

  app.socketEvents.onConnected((socket) => {
    socket.emit('hello', { userId: socket.data.userId, node: app.config.nodeId, protocol: PROTOCOL_VERSION, rooms: socket.data.rooms });
  });

  route(app, HTTP_ROUTES.listRooms, async (_input, request) => ({
    rooms: await listRoomSummaries(app.reads.reader(request.user.userId), request.user.userId),
  }));

  route(app, HTTP_ROUTES.createRoom, async ({ body }, request) => {
    const userId = request.user.userId;
    const room = await db.primary.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('rooms')
        .values({ id: randomUUID(), name: body.name.trim(), type: body.type, direct_key: null, created_by: userId })
        .returning(ROOM_COLUMNS)
        .executeTakeFirstOrThrow();
      await trx.insertInto('room_members').values({ room_id: row.id, user_id: userId, role: 'owner' }).execute();
      return toRoom(row);
    });
    await membership.announceJoin(room, await membership.memberView(room.id, userId, true));
    return { room };
  });

  route(app, HTTP_ROUTES.directRoom, async ({ body: { userId: otherId } }, request, reply) => {
    const me = request.user;
    if (otherId === me.userId) throw new ChatError('VALIDATION', 'cannot open a direct room with yourself');
    const other = await db.primary.selectFrom('users').select(['id', 'username']).where('id', '=', otherId).executeTakeFirst();
    if (!other) throw new ChatError('NOT_FOUND', 'no such user');
    const directKey = [me.userId, otherId].sort().join(':');
    // One direct room per pair: the unique direct_key makes concurrent requests converge on one row.
    const created = await db.primary.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('rooms')
        .values({ id: randomUUID(), name: [me.username, other.username].sort().join(', '), type: 'direct', direct_key: directKey, created_by: me.userId })
        .onConflict((oc) => oc.column('direct_key').doNothing())
        .returning(ROOM_COLUMNS)
        .executeTakeFirst();
      if (!inserted) return undefined;
      await trx
        .insertInto('room_members')
        .values([
          { room_id: inserted.id, user_id: me.userId, role: 'member' },
          { room_id: inserted.id, user_id: otherId, role: 'member' },
        ])
        .execute();
      return toRoom(inserted);
    });
    if (created) {
      const online = await app.presenceOf([me.userId, otherId]);
      await membership.announceJoin(created, await membership.memberView(created.id, me.userId, online.get(me.userId) ?? false));
      await membership.announceJoin(created, await membership.memberView(created.id, otherId, online.get(otherId) ?? false));
      return { room: created };
    }
    const existing = await db.primary.selectFrom('rooms').select(ROOM_COLUMNS).where('direct_key', '=', directKey).executeTakeFirstOrThrow();
    reply.status(200);
    return { room: toRoom(existing) };
  });

  route(app, HTTP_ROUTES.discoverRooms, async ({ query: { query } }, request) => {
    const pattern = `%${query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await app.reads
      .reader(request.user.userId)
      .selectFrom('rooms')
      .select(ROOM_COLUMNS)
      .where('type', '=', 'public')
      .where('name', 'ilike', pattern)
      .orderBy('last_seq', 'desc')
      .limit(50)
      .execute();
    return { rooms: rows.map(toRoom) };
  });

  route(app, HTTP_ROUTES.joinRoom, async ({ params: { roomId } }, request, reply) => {
    const userId = request.user.userId;
    const room = await db.primary.selectFrom('rooms').select([...ROOM_COLUMNS, 'last_seq']).where('id', '=', roomId).executeTakeFirst();
    if (!room || room.type === 'direct') throw new ChatError('NOT_FOUND', 'no such room');
    // Checked and written under the membership lock, so a concurrent ban cannot slip in between.
    const outcome = await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const banned = await trx.selectFrom('bans').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
      if (banned) throw new ChatError('FORBIDDEN', 'banned from this room');
      const current = await trx
        .selectFrom('room_members')
        .select('left_at')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (current && current.left_at === null) return { kind: 'member' as const };
      if (room.type === 'private') {
        const row = await trx
          .insertInto('join_requests')
          .values({ room_id: roomId, user_id: userId, status: 'pending' })
          .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ status: 'pending', decided_at: null, decided_by: null, created_at: new Date() }))
          .returning(['room_id', 'user_id', 'status', 'created_at'])
          .executeTakeFirstOrThrow();
        return { kind: 'requested' as const, row };
      }
      // A new member starts with cursors at the room's current end: the backlog is history to browse, not
      // unread messages to sync. A returning member keeps the cursors they had.
      await trx
        .insertInto('room_members')
        .values({ room_id: roomId, user_id: userId, role: 'member', delivered_seq: room.last_seq, read_seq: room.last_seq })
        .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ left_at: null, role: 'member', joined_at: new Date() }))
        .execute();
      return { kind: 'joined' as const };
    });
    if (outcome.kind === 'member') return { room: toRoom(room) };
    if (outcome.kind === 'requested') {
      const { row } = outcome;
      reply.status(202);
      return { joinRequest: { roomId: row.room_id, userId: row.user_id, status: row.status, createdAt: row.created_at.toISOString() } };
    }
    const view = toRoom(room);
    await membership.announceJoin(view, await membership.memberView(roomId, userId, (await app.presenceOf([userId])).get(userId) ?? false));
    return { room: view };
  });

  route(app, HTTP_ROUTES.leaveRoom, async ({ params: { roomId } }, request) => {
    const userId = request.user.userId;
    const res = await db.primary
      .updateTable('room_members')
      .set({ left_at: new Date() })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw await membership.accessError(roomId);
    await membership.announceLeave(roomId, userId);
  });

  route(app, HTTP_ROUTES.members, async ({ params: { roomId } }, request) => {
    await membership.requireMember(request.user.userId, roomId);
    const rows = await app.reads
      .reader(request.user.userId)
      .selectFrom('room_members')
      .innerJoin('users', 'users.id', 'room_members.user_id')
      .select(['users.id', 'users.username', 'users.display_name', 'room_members.role'])
      .where('room_members.room_id', '=', roomId)
      .where('room_members.left_at', 'is', null)
      .orderBy('users.username')
      .execute();
    const online = await app.presenceOf(rows.map((r) => r.id));
    const members: Member[] = rows.map((r) => ({
      userId: r.id,
      username: r.username,
      displayName: r.display_name,
      role: r.role,
      online: online.get(r.id) ?? false,
    }));
    return { members };
  });
}

export const roomsFeature = fp(rooms, { name: 'rooms', dependencies: ['auth', 'presence'] });
