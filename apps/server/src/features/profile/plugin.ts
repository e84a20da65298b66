import { ChatError, HTTP_ROUTES, userChannel } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { toUser } from '../../views/user-view';

/**
 * How others see a user: their display name. A rename is stored, then shown everywhere at once: every room
 * the user is in gets `member:updated`, and every socket of theirs (on any node, through the cluster bus)
 * sends its next messages under the new name. Messages already sent show the name as it is now (history
 * reads it from `users`); the live copies other clients hold keep the name they arrived with.
 */
async function profile(app: FastifyInstance): Promise<void> {
  const { db, membership } = app;

  function renameLocalSockets(userId: string, displayName: string): void {
    const ns = app.io.of('/');
    for (const id of ns.adapter.rooms.get(userChannel(userId)) ?? []) {
      const socket = ns.sockets.get(id);
      if (socket) socket.data.displayName = displayName;
    }
  }
  app.bus.subscribe('users:renamed', renameLocalSockets);

  route(app, HTTP_ROUTES.updateProfile, async ({ body: { displayName } }, { user: claims }) => {
    const row = await db.primary
      .updateTable('users')
      .set({ display_name: displayName })
      .where('id', '=', claims.userId)
      .returning(['id', 'username', 'display_name', 'created_at'])
      .executeTakeFirst();
    if (!row) throw new ChatError('UNAUTHORIZED', 'user no longer exists');
    renameLocalSockets(claims.userId, displayName);
    app.bus.publish('users:renamed', claims.userId, displayName);
    const rooms = await db.primary.selectFrom('room_members').select('room_id').where('user_id', '=', claims.userId).where('left_at', 'is', null).execute();
    const online = (await app.presenceOf([claims.userId])).get(claims.userId) ?? false;
    for (const { room_id: roomId } of rooms) membership.announceUpdate(roomId, await membership.memberView(roomId, claims.userId, online));
    return { user: toUser(row) };
  });
}

export const profileFeature = fp(profile, { name: 'profile', dependencies: ['membership', 'auth', 'presence'] });
