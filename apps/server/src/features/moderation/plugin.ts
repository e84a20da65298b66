import { asReadonly } from '@chat/db';
import { ChatError, HTTP_ROUTES, roomChannel, roomIdsOf, type Room } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { auditPage } from './audit-log';
import { requireModerator } from './authority';
import { ModerationChanges } from './moderation-changes';
import { activeTimeouts, pendingJoinRequests, roomBans } from './moderation-queries';
import { TimeoutCache } from './timeout-cache';

/** What other features may ask of moderation. */
export interface ModerationApi {
  /** FORBIDDEN while the user is timed out in the room; O(1) and synchronous once the room is cached. */
  assertCanSend(roomId: string, userId: string): void | Promise<void>;
  /** Drops this node's cached timeouts of a room (other nodes are told through the cluster bus). */
  invalidateTimeouts(roomId: string): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    moderation: ModerationApi;
  }
}

async function moderation(app: FastifyInstance): Promise<void> {
  const { db, membership } = app;
  // Moderation is rare and its readers just acted: read the primary, so an action is listed at once.
  const reads = asReadonly(db.primary);
  const changes = new ModerationChanges(membership);
  const loaded = { send: app.metrics.timeoutRoomsLoaded.labels('send'), background: app.metrics.timeoutRoomsLoaded.labels('background') };
  const timeouts = new TimeoutCache(
    (roomIds) =>
      activeTimeouts(db.primary, roomIds).catch((err: unknown) => {
        app.log.warn({ err, rooms: roomIds.length }, 'loading room timeouts failed');
        throw new ChatError('UNAVAILABLE', 'cannot check timeouts, try again');
      }),
    {
      onQuery: ({ send, background }) => {
        if (send > 0) loaded.send.inc(send);
        if (background > 0) loaded.background.inc(background);
      },
    },
  );
  app.addHook('onClose', async () => timeouts.close());
  // Other nodes tell us when they set a timeout, so their cached view is not up to 5 s stale.
  app.bus.subscribe('moderation:timeouts', (roomId) => timeouts.invalidate(roomId));
  app.bus.onResume(() => timeouts.invalidateAll());
  // A connected socket's rooms are loaded in the background (batched per window), off its handshake and off
  // its first send.
  app.socketEvents.onConnected((socket) => timeouts.prefetch(roomIdsOf(socket.rooms)));
  app.decorate('moderation', {
    assertCanSend: (roomId: string, userId: string) => timeouts.assertCanSend(roomId, userId),
    invalidateTimeouts: (roomId: string) => timeouts.invalidate(roomId),
  } satisfies ModerationApi);

  /** The member as the response shows them; announced to the room and their sockets when just admitted. */
  async function memberNow(roomId: string, userId: string, admitted?: Room) {
    const member = await membership.memberView(roomId, userId, (await app.presenceOf([userId])).get(userId) ?? false);
    if (admitted) await membership.announceJoin(admitted, member);
    return { member };
  }
  const moderator = async (userId: string, roomId: string) => ({ id: userId, role: await requireModerator(membership, userId, roomId) });

  // Invite, approve and role changes answer 200 {member} (the caller usually shows the member row);
  // removals and restrictions answer 204.
  // Every member sees the new name or topic at once; the room list and headers update from `room:updated`.
  route(app, HTTP_ROUTES.updateRoom, async ({ params: { roomId }, body }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    const room = await changes.updateRoom(user.userId, roomId, body);
    app.io.to(roomChannel(roomId)).emit('room:updated', { room });
    return { room };
  });

  route(app, HTTP_ROUTES.invite, async ({ params: { roomId }, body: { userId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    return memberNow(roomId, userId, await changes.invite(user.userId, roomId, userId));
  });

  route(app, HTTP_ROUTES.joinRequests, async ({ params: { roomId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    return { joinRequests: await pendingJoinRequests(reads, roomId) };
  });

  route(app, HTTP_ROUTES.approveJoinRequest, async ({ params: { roomId, userId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    return memberNow(roomId, userId, await changes.approve(user.userId, roomId, userId));
  });

  route(app, HTTP_ROUTES.rejectJoinRequest, async ({ params: { roomId, userId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    await changes.reject(user.userId, roomId, userId);
  });

  route(app, HTTP_ROUTES.setRole, async ({ params: { roomId, userId }, body: { role } }, { user }) => {
    if ((await requireModerator(membership, user.userId, roomId)) !== 'owner') throw new ChatError('FORBIDDEN', 'only the room owner can change roles');
    const changed = await changes.setRole(user.userId, roomId, userId, role);
    const answer = await memberNow(roomId, userId);
    if (changed) {
      // A handover changed the caller's role too.
      const caller = role === 'owner' ? [{ roomId, member: (await memberNow(roomId, user.userId)).member }] : [];
      await membership.announceUpdate([{ roomId, member: answer.member }, ...caller]);
    }
    return answer;
  });

  route(app, HTTP_ROUTES.kick, async ({ params: { roomId, userId } }, { user }) => {
    await changes.kick(await moderator(user.userId, roomId), roomId, userId);
    await membership.announceLeave(roomId, userId);
  });

  route(app, HTTP_ROUTES.ban, async ({ params: { roomId }, body: { userId, reason } }, { user }) => {
    const { removed } = await changes.ban(await moderator(user.userId, roomId), roomId, userId, reason);
    if (removed) await membership.announceLeave(roomId, userId);
  });

  route(app, HTTP_ROUTES.bans, async ({ params: { roomId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    return { bans: await roomBans(reads, roomId) };
  });

  route(app, HTTP_ROUTES.unban, async ({ params: { roomId, userId } }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    await changes.unban(user.userId, roomId, userId);
  });

  route(app, HTTP_ROUTES.timeout, async ({ params: { roomId }, body: { userId, seconds, reason } }, { user }) => {
    const until = await changes.timeout(await moderator(user.userId, roomId), roomId, userId, seconds, reason);
    timeouts.set(roomId, userId, until.getTime());
    app.bus.publish('moderation:timeouts', roomId);
    // Every open client (the member's other tabs included) shows the timeout at once.
    await membership.announceUpdate([{ roomId, member: (await memberNow(roomId, userId)).member }]);
  });

  route(app, HTTP_ROUTES.auditLog, async ({ params: { roomId }, query: page }, { user }) => {
    await requireModerator(membership, user.userId, roomId);
    return auditPage(reads, roomId, page);
  });
}

export const moderationFeature = fp(moderation, { name: 'moderation', dependencies: ['membership', 'presence'] });
