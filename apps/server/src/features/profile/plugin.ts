import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { ChatError, HTTP_ROUTES, LIMITS, userChannel } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { ContentCheck } from '../../infra/files/content-check';
import { FileSizeMismatchError } from '../../infra/files/file-store';
import { z } from 'zod';
import { asReadonly, type DB, type ReadonlyKysely } from '@chat/db';
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
      .returning(['id', 'username', 'display_name', 'created_at', 'avatar_id'])
      .executeTakeFirst();
    if (!row) throw new ChatError('UNAUTHORIZED', 'user no longer exists');
    renameLocalSockets(claims.userId, displayName);
    app.bus.publish('users:renamed', claims.userId, displayName);
    await announceToRooms(claims.userId);
    return { user: toUser(row) };
  });

  /** Every room of the user sees their member row as it is now (name, picture). */
  async function announceToRooms(userId: string): Promise<void> {
    const rooms = await db.primary.selectFrom('room_members').select('room_id').where('user_id', '=', userId).where('left_at', 'is', null).execute();
    const online = (await app.presenceOf([userId])).get(userId) ?? false;
    const updates = [];
    for (const { room_id: roomId } of rooms) updates.push({ roomId, member: await membership.memberView(roomId, userId, online) });
    await membership.announceUpdate(updates);
  }

  /** Makes `avatarId` (or none) the user's picture, deletes the bytes of the one it replaces, and tells their rooms. */
  async function setAvatar(userId: string, avatar: { id: string; type: string } | undefined) {
    const before = await db.primary.selectFrom('users').select('avatar_id').where('id', '=', userId).executeTakeFirst();
    const row = await db.primary
      .updateTable('users')
      .set({ avatar_id: avatar?.id ?? null, avatar_type: avatar?.type ?? null })
      .where('id', '=', userId)
      .returning(['id', 'username', 'display_name', 'created_at', 'avatar_id'])
      .executeTakeFirst();
    if (!row) throw new ChatError('UNAUTHORIZED', 'user no longer exists');
    if (before?.avatar_id) await app.files.delete(avatarKey(before.avatar_id)).catch((err: unknown) => app.log.warn({ err, userId }, 'could not delete a replaced avatar'));
    await announceToRooms(userId);
    return { user: toUser(row) };
  }

  // The picture's bytes arrive as the body: this child scope streams them to the store unparsed.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    route(scope, HTTP_ROUTES.setAvatar, async (_input, request) => {
      const type = AVATAR_TYPES.safeParse((request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase());
      if (!type.success) throw new ChatError('VALIDATION', `a picture may be one of: ${AVATAR_TYPES.options.join(', ')}`, { details: { field: 'Content-Type' } });
      const size = Number(request.headers['content-length'] ?? NaN);
      if (!Number.isSafeInteger(size) || size <= 0) throw new ChatError('VALIDATION', 'an upload needs a Content-Length of at least 1 byte', { details: { field: 'Content-Length' } });
      if (size > LIMITS.avatarMaxBytes) throw new ChatError('PAYLOAD_TOO_LARGE', `pictures are limited to ${LIMITS.avatarMaxBytes} bytes`, { details: { limit: LIMITS.avatarMaxBytes } });
      const id = randomUUID();
      const checked = new ContentCheck(type.data);
      pipeline(request.body as Readable, checked, () => undefined);
      try {
        await app.files.put(avatarKey(id), checked, { size, contentType: type.data });
      } catch (err) {
        if (err instanceof ChatError) throw err;
        if (err instanceof FileSizeMismatchError) throw new ChatError('VALIDATION', 'the body is not Content-Length bytes long', { details: { field: 'Content-Length' } });
        throw err;
      }
      return setAvatar(request.user.userId, { id, type: type.data });
    });
  });

  route(app, HTTP_ROUTES.removeAvatar, async (_input, { user }) => setAvatar(user.userId, undefined));

  route(app, HTTP_ROUTES.avatar, async ({ params: { avatarId } }, _request, reply) => {
    // A replica usually; the primary when it has not replayed a picture set a moment ago.
    const typeOf = (reader: ReadonlyKysely<DB>) => reader.selectFrom('users').select('avatar_type').where('avatar_id', '=', avatarId).executeTakeFirst();
    const row = (await typeOf(db.reads.pick().db)) ?? (await typeOf(asReadonly(db.primary)));
    const object = row?.avatar_type ? await app.files.get(avatarKey(avatarId)) : undefined;
    if (!row?.avatar_type || !object) throw new ChatError('NOT_FOUND', 'no such picture');
    return reply
      .header('content-type', row.avatar_type)
      .header('content-length', String(object.size))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cross-origin-resource-policy', 'same-origin')
      // A picture never changes under its id (a new picture gets a new one).
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(object.body);
  });
}

const AVATAR_TYPES = z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const avatarKey = (avatarId: string) => `avatars/${avatarId}`;

export const profileFeature = fp(profile, { name: 'profile', dependencies: ['membership', 'auth', 'presence'] });
