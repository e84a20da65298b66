import { ChatError, parseRoomChannel, roomChannel, type Presence } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { PresenceState } from '../../infra/presence-store';
import { roomsOfUsers, usersSharingARoom } from './presence-queries';

function toPresence(userId: string, s: PresenceState | undefined): Presence {
  return s?.lastSeen && !s.online ? { userId, online: false, lastSeen: s.lastSeen.toISOString() } : { userId, online: s?.online ?? false };
}

function roomChannelsOf(channels: Iterable<string>): string[] {
  return [...channels].filter((channel) => parseRoomChannel(channel) !== undefined);
}

/**
 * Presence: online while at least one socket of the user is connected. `presence` events go to the rooms
 * the user is in (Socket.IO sends once per socket even when it shares several of them); `presence:get`
 * answers only for users who share a room with the caller.
 */
async function presence(app: FastifyInstance): Promise<void> {
  const store = app.presence;

  // A cap on sockets per user across the cluster (issue 9): a leaked token or a runaway client cannot hold
  // thousands of sockets (each one memory on a node and a member of every room channel of the user).
  app.socketEvents.onConnecting(async (socket) => {
    if ((await store.socketCount(socket.data.userId)) >= app.config.socketsPerUserMax) {
      throw new ChatError('RATE_LIMITED', 'too many connections for this user', { retryAfterMs: 30_000 });
    }
  });

  app.socketEvents.onConnected(async (socket) => {
    const userId = socket.data.userId;
    if (await store.add(userId, socket.id)) {
      const rooms = roomChannelsOf(socket.rooms);
      if (rooms.length > 0) app.io.to(rooms).emit('presence', { userId, online: true });
    }
  });

  app.socketEvents.onDisconnect(async (socket, rooms) => {
    const userId = socket.data.userId;
    const { wentOffline, lastSeen } = await store.remove(userId, socket.id);
    const channels = roomChannelsOf(rooms);
    if (wentOffline && channels.length > 0) {
      app.io.to(channels).emit('presence', { userId, online: false, lastSeen: lastSeen.toISOString() });
    }
  });

  // Users of a node that died without a word: once its heartbeat expired, one surviving node sweeps its
  // entries and tells those users' rooms that they went offline.
  const sweeper = setInterval(() => {
    void (async () => {
      const offline = await store.sweep();
      if (offline.length === 0) return;
      const rooms = await roomsOfUsers(app.db.primary, offline);
      const lastSeen = new Date().toISOString();
      for (const userId of offline) {
        const channels = (rooms.get(userId) ?? []).map(roomChannel);
        if (channels.length > 0) app.io.to(channels).emit('presence', { userId, online: false, lastSeen });
      }
    })().catch((err: unknown) => app.log.warn({ err }, 'presence sweep failed'));
  }, app.config.presenceHeartbeatMs);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));

  app.socketEvents.on('presence:get', async (socket, { userIds }) => {
    if (userIds.length === 0) return { presence: [] };
    const ids = await usersSharingARoom(app.reads.reader(socket.data.userId), socket.data.userId, userIds);
    const states = await store.get(ids);
    return { presence: ids.map((id) => toPresence(id, states.get(id))) };
  });

  app.decorate('presenceOf', async (userIds: readonly string[]) => {
    if (userIds.length === 0) return new Map<string, boolean>();
    const states = await store.get(userIds);
    return new Map(userIds.map((id) => [id, states.get(id)?.online ?? false]));
  });

}

declare module 'fastify' {
  interface FastifyInstance {
    /** Online flags for member lists. */
    presenceOf: (userIds: readonly string[]) => Promise<Map<string, boolean>>;
  }
}

export const presenceFeature = fp(presence, { name: 'presence', dependencies: ['infrastructure', 'auth'] });
