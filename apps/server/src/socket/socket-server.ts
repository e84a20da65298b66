import { ChatError } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { corkFlushes, flushOncePerTurn, type TurnFlushes } from './flush-corking';
import { releaseHandshake } from './handshake-release';
import { openHandshake, settleHandshake } from './handshaking-sockets';
import { connectError } from './socket-events';
import { watchSlowReaders } from './slow-readers';

declare module 'fastify' {
  interface FastifyInstance {
    /** Writes that may wait for their socket's next flush (socket/flush-corking.ts). */
    socketFlushes: Pick<TurnFlushes, 'withNextFlush'>;
  }
}

/**
 * Binds the socket event registry to Socket.IO: the features' handshake steps run as one middleware (after
 * admission's, which is registered before this plugin), and every accepted socket gets the features' handlers.
 */
async function socketServer(app: FastifyInstance): Promise<void> {
  const { io, metrics, socketEvents } = app;
  io.use((socket, next) => {
    openHandshake(socket);
    socketEvents.runConnectSteps(socket).then(
      () => {
        settleHandshake(socket);
        next();
      },
      (err: unknown) => {
        const chatError =
          err instanceof ChatError ? err : (app.log.error({ err }, 'socket connect failed'), new ChatError('UNAVAILABLE', 'try again later'));
        metrics.connections.inc({ outcome: chatError.code });
        next(connectError(chatError));
      },
    );
  });
  io.on('connection', (socket) => {
    metrics.connections.inc({ outcome: 'accepted' });
    metrics.socketsConnected.inc();
    socket.on('disconnect', () => metrics.socketsConnected.dec());
    socketEvents.attach(socket);
    releaseHandshake(socket);
  });
  const stopWatching = watchSlowReaders(io, app.config.slowReaders, ({ packets, bytes }) => {
    metrics.slowReadersCut.inc();
    app.log.warn({ packets, bytes }, 'socket cut: its outbound queue is over the limit (a client that does not read)');
  });
  const engine = io.engine as unknown as Parameters<typeof corkFlushes>[0];
  const stopCorking = corkFlushes(engine);
  const heldLeft = {
    with_next: metrics.heldFlushes.labels({ left: 'with_next' }),
    at_deadline: metrics.heldFlushes.labels({ left: 'at_deadline' }),
    at_once: metrics.heldFlushes.labels({ left: 'at_once' }),
  };
  const flushes = flushOncePerTurn(engine, { onHeldLeft: (left, sockets) => heldLeft[left].inc(sockets) });
  app.decorate('socketFlushes', { withNextFlush: flushes.withNextFlush });
  app.addHook('onClose', async () => {
    stopWatching();
    stopCorking();
    flushes.stop();
  });
}

export const socketServerPlugin = fp(socketServer, { name: 'socket-server', dependencies: ['infrastructure'] });
