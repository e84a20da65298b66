import type { DB, Transaction } from '@chat/db';
import { asReadonly } from '@chat/db';
import { ChatError, HTTP_ROUTES, roomChannel, type JoinRequest, type Room } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { toRoom } from '../../views/room-view';
import { auditPage, recordAudit } from './audit-log';
import { assertOutranks, requireModerator } from './authority';
import { TimeoutCache, type RoomTimeouts } from './timeout-cache';
import { lockMembership } from '../rooms/membership-lock';

/** What other features may ask of moderation. */
export interface ModerationApi {
  /** FORBIDDEN while the user is timed out in the room; O(1) and synchronous once the room is cached. */
  assertCanSend(roomId: string, userId: string): void | Promise<void>;
  /** Drops this node's cached timeouts of a room (other nodes are told through the adapter). */
  invalidateTimeouts(roomId: string): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    moderation: ModerationApi;
  }
}

type Trx = Transaction<DB>;

async function activeRole(trx: Trx, roomId: string, userId: string) {
  const row = await trx
    .selectFrom('room_members')
    .select('role')
    .where('room_id', '=', roomId)
    .where('user_id', '=', userId)
    .where('left_at', 'is', null)
    .executeTakeFirst();
  return row?.role;
}

async function isBanned(trx: Trx, roomId: string, userId: string): Promise<boolean> {
  const row = await trx.selectFrom('bans').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

/**
 * Makes the user a member as a public join does: a new member's cursors start at the room's current end,
 * a returning one keeps theirs. A pending join request is settled as approved. Returns the room, or
 * undefined when the user already was a member (nothing changed).
 */
async function admit(trx: Trx, roomId: string, userId: string, actorId: string): Promise<Room | undefined> {
  if ((await activeRole(trx, roomId, userId)) !== undefined) return undefined;
  const room = await trx.selectFrom('rooms').select(['id', 'name', 'type', 'created_at', 'last_seq']).where('id', '=', roomId).executeTakeFirstOrThrow();
  await trx
    .insertInto('room_members')
    .values({ room_id: roomId, user_id: userId, role: 'member', delivered_seq: room.last_seq, read_seq: room.last_seq })
    .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ left_at: null, role: 'member', joined_at: new Date() }))
    .execute();
  await settleJoinRequest(trx, roomId, userId, actorId, 'approved');
  return toRoom(room);
}

/** Returns whether a pending request was settled. */
async function settleJoinRequest(trx: Trx, roomId: string, userId: string, actorId: string, status: 'approved' | 'rejected'): Promise<boolean> {
  const res = await trx
    .updateTable('join_requests')
    .set({ status, decided_by: actorId, decided_at: new Date() })
    .where('room_id', '=', roomId)
    .where('user_id', '=', userId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

async function moderation(app: FastifyInstance): Promise<void> {
  const { db, membership } = app;
  // Moderation is rare and its readers just acted: read the primary, so an action is listed at once.
  const reads = asReadonly(db.primary);

  const timeouts = new TimeoutCache(async (roomId): Promise<RoomTimeouts> => {
    try {
      const rows = await db.primary
        .selectFrom('timeouts')
        .select(['user_id', 'until'])
        .where('room_id', '=', roomId)
        .where('until', '>', new Date())
        .execute();
      return new Map(rows.map((r) => [r.user_id, r.until.getTime()]));
    } catch (err) {
      app.log.warn({ err, roomId }, 'loading room timeouts failed');
      throw new ChatError('UNAVAILABLE', 'cannot check timeouts, try again');
    }
  });
  // Other nodes tell us when they set a timeout, so their cached view is not up to 5 s stale.
  if (app.redis) app.io.on('moderation:timeouts', (roomId) => timeouts.invalidate(roomId));
  app.decorate('moderation', {
    assertCanSend: (roomId: string, userId: string) => timeouts.assertCanSend(roomId, userId),
    invalidateTimeouts: (roomId: string) => timeouts.invalidate(roomId),
  } satisfies ModerationApi);

  const online = async (userId: string) => (await app.presenceOf([userId])).get(userId) ?? false;

  /** The member as the response shows them; announced to the room and their sockets when just admitted. */
  async function admittedMember(roomId: string, userId: string, admitted: Room | undefined) {
    const member = await membership.memberView(roomId, userId, await online(userId));
    if (admitted) await membership.announceJoin(admitted, member);
    return { member };
  }

  // Invite: 200 {member}, like approve and role changes (the caller usually shows the new member row);
  // removals and restrictions answer 204.
  route(app, HTTP_ROUTES.invite, async ({ params: { roomId }, body: { userId } }, request) => {
    const actorId = request.user.userId;
    await requireModerator(membership, actorId, roomId);
    const admitted = await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      if (!user) throw new ChatError('NOT_FOUND', 'no such user');
      if (await isBanned(trx, roomId, userId)) throw new ChatError('FORBIDDEN', 'the user is banned from this room');
      const room = await admit(trx, roomId, userId, actorId);
      if (room) await recordAudit(trx, { roomId, actorId, action: 'member.invite', targetUserId: userId });
      return room;
    });
    return admittedMember(roomId, userId, admitted);
  });

  route(app, HTTP_ROUTES.joinRequests, async ({ params: { roomId } }, request) => {
    await requireModerator(membership, request.user.userId, roomId);
    const rows = await reads
      .selectFrom('join_requests')
      .select(['room_id', 'user_id', 'status', 'created_at'])
      .where('room_id', '=', roomId)
      .where('status', '=', 'pending')
      .orderBy('created_at')
      .orderBy('user_id')
      .execute();
    const joinRequests: JoinRequest[] = rows.map((r) => ({ roomId: r.room_id, userId: r.user_id, status: r.status, createdAt: r.created_at.toISOString() }));
    return { joinRequests };
  });

  route(app, HTTP_ROUTES.approveJoinRequest, async ({ params: { roomId, userId } }, request) => {
    const actorId = request.user.userId;
    await requireModerator(membership, actorId, roomId);
    const admitted = await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      if (await isBanned(trx, roomId, userId)) throw new ChatError('FORBIDDEN', 'the user is banned from this room');
      if (!(await settleJoinRequest(trx, roomId, userId, actorId, 'approved'))) throw new ChatError('NOT_FOUND', 'no pending join request');
      const room = await admit(trx, roomId, userId, actorId);
      await recordAudit(trx, { roomId, actorId, action: 'join_request.approve', targetUserId: userId });
      return room;
    });
    return admittedMember(roomId, userId, admitted);
  });

  route(app, HTTP_ROUTES.rejectJoinRequest, async ({ params: { roomId, userId } }, request) => {
    const actorId = request.user.userId;
    await requireModerator(membership, actorId, roomId);
    await db.primary.transaction().execute(async (trx) => {
      if (!(await settleJoinRequest(trx, roomId, userId, actorId, 'rejected'))) throw new ChatError('NOT_FOUND', 'no pending join request');
      await recordAudit(trx, { roomId, actorId, action: 'join_request.reject', targetUserId: userId });
    });
  });

  route(app, HTTP_ROUTES.setRole, async ({ params: { roomId, userId }, body: { role } }, request) => {
    const actorId = request.user.userId;
    if ((await requireModerator(membership, actorId, roomId)) !== 'owner') throw new ChatError('FORBIDDEN', 'only the room owner can change roles');
    const changed = await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const from = await activeRole(trx, roomId, userId);
      if (from === undefined) throw new ChatError('NOT_FOUND', 'not a member of this room');
      if (from === 'owner') throw new ChatError('FORBIDDEN', "the owner's role cannot be changed");
      if (from === role) return false;
      await trx.updateTable('room_members').set({ role }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
      await recordAudit(trx, { roomId, actorId, action: 'member.role', targetUserId: userId, details: { from, to: role } });
      return true;
    });
    const member = await membership.memberView(roomId, userId, await online(userId));
    if (changed) app.io.to(roomChannel(roomId)).emit('member:updated', { roomId, member });
    return { member };
  });

  route(app, HTTP_ROUTES.kick, async ({ params: { roomId, userId } }, request) => {
    const actorId = request.user.userId;
    const actorRole = await requireModerator(membership, actorId, roomId);
    await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const target = await activeRole(trx, roomId, userId);
      if (target === undefined) throw new ChatError('NOT_FOUND', 'not a member of this room');
      assertOutranks(actorRole, target);
      await trx.updateTable('room_members').set({ left_at: new Date() }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
      await recordAudit(trx, { roomId, actorId, action: 'member.kick', targetUserId: userId });
    });
    await membership.announceLeave(roomId, userId);
  });

  route(app, HTTP_ROUTES.ban, async ({ params: { roomId }, body: { userId, reason } }, request) => {
    const actorId = request.user.userId;
    const actorRole = await requireModerator(membership, actorId, roomId);
    const removed = await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      if (!user) throw new ChatError('NOT_FOUND', 'no such user');
      // Anyone who is not a current member may be banned pre-emptively; a member only by someone who outranks them.
      const target = await activeRole(trx, roomId, userId);
      if (target !== undefined) assertOutranks(actorRole, target);
      await trx
        .insertInto('bans')
        .values({ room_id: roomId, user_id: userId, reason: reason ?? null, banned_by: actorId })
        .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ reason: reason ?? null, banned_by: actorId, created_at: new Date() }))
        .execute();
      if (target !== undefined) {
        await trx.updateTable('room_members').set({ left_at: new Date() }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
      }
      await settleJoinRequest(trx, roomId, userId, actorId, 'rejected');
      await recordAudit(trx, {
        roomId,
        actorId,
        action: 'member.ban',
        targetUserId: userId,
        details: { ...(reason !== undefined ? { reason } : {}), removed: target !== undefined },
      });
      return target !== undefined;
    });
    if (removed) await membership.announceLeave(roomId, userId);
  });

  route(app, HTTP_ROUTES.unban, async ({ params: { roomId, userId } }, request) => {
    const actorId = request.user.userId;
    await requireModerator(membership, actorId, roomId);
    await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const res = await trx.deleteFrom('bans').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
      if (res.numDeletedRows === 0n) throw new ChatError('NOT_FOUND', 'the user is not banned from this room');
      await recordAudit(trx, { roomId, actorId, action: 'member.unban', targetUserId: userId });
    });
  });

  route(app, HTTP_ROUTES.timeout, async ({ params: { roomId }, body: { userId, seconds, reason } }, request) => {
    const actorId = request.user.userId;
    const actorRole = await requireModerator(membership, actorId, roomId);
    const until = new Date(Date.now() + seconds * 1000);
    await db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      const target = await activeRole(trx, roomId, userId);
      if (target === undefined) throw new ChatError('NOT_FOUND', 'not a member of this room');
      assertOutranks(actorRole, target);
      // A new timeout replaces the previous one, shorter or longer: that is also how one is lifted early.
      await trx
        .insertInto('timeouts')
        .values({ room_id: roomId, user_id: userId, until, reason: reason ?? null, created_by: actorId })
        .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ until, reason: reason ?? null, created_by: actorId, created_at: new Date() }))
        .execute();
      await recordAudit(trx, {
        roomId,
        actorId,
        action: 'member.timeout',
        targetUserId: userId,
        details: { seconds, until: until.toISOString(), ...(reason !== undefined ? { reason } : {}) },
      });
    });
    timeouts.set(roomId, userId, until.getTime());
    if (app.redis) app.io.serverSideEmit('moderation:timeouts', roomId);
  });

  route(app, HTTP_ROUTES.auditLog, async ({ params: { roomId }, query: page }, request) => {
    await requireModerator(membership, request.user.userId, roomId);
    return auditPage(reads, roomId, page);
  });
}

export const moderationFeature = fp(moderation, { name: 'moderation', dependencies: ['rooms'] });
