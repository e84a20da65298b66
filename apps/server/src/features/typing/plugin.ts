import { LIMITS, roomChannel, roomIdsOf } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { TypingState } from './typing-state';

async function typing(app: FastifyInstance): Promise<void> {
  const state = new TypingState(LIMITS.typingCoalesceMs, LIMITS.typingExpiryMs, (roomId, userId, isTyping) => {
    app.io.to(roomChannel(roomId)).emit('typing', { roomId, userId, typing: isTyping });
  });

  app.socketEvents.on('typing', async (socket, { roomId, typing: isTyping }) => {
    if (!socket.rooms.has(roomChannel(roomId))) throw await app.membership.accessError(roomId);
    // A timed-out member may read but not speak: typing is speaking too.
    await app.moderation.assertCanSend(roomId, socket.data.userId);
    state.set(roomId, socket.data.userId, isTyping);
  });

  app.socketEvents.onDisconnect((socket, rooms) => {
    state.clearUser(socket.data.userId, roomIdsOf(rooms));
  });

  app.addHook('onClose', async () => state.close());
}

export const typingFeature = fp(typing, { name: 'typing', dependencies: ['membership', 'moderation'] });
