import { ChatError } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { handshakeAddress } from '../../socket/handshake-address';
import { connectError } from '../../socket/socket-events';
import { addressBucket } from '../../http/client-address';
import { ConnectionLimiter } from './connection-limiter';

/**
 * Handshake admission control: a Socket.IO middleware that refuses connections over the node's or the
 * client address's budget with `connect_error` RATE_LIMITED and a jittered `retryAfterMs`, before any
 * other handshake work (token check, room lookup) is done. Registered before buildApp installs the
 * middleware that runs the features' handshake steps, so it runs first.
 */
async function admission(app: FastifyInstance): Promise<void> {
  const { config, io, metrics } = app;
  const handshakes = new Counter({
    name: 'chat_handshakes_total',
    help: 'Socket handshakes seen by admission control, by result (accepted, rejected) and reason',
    labelNames: ['result', 'reason'] as const,
    registers: [metrics.registry],
  });
  const limiter = new ConnectionLimiter({
    limiters: app.rateLimiters,
    nodeId: config.hostNodeId,
    // A one-process node counts its own budget in memory: two of the four Redis commands an admitted
    // handshake cost, and two of a refused one's (docs/performance.md, "Admission without Redis for the
    // node's budget"). The workers of one node (WORKERS > 1) share theirs through Redis.
    nodeScope: config.workers > 1 ? 'cluster' : 'node',
    nodePerSecond: config.admission.nodePerSecond,
    ipPerSecond: config.admission.ipPerSecond,
    windowSeconds: config.admission.windowSeconds,
  });

  // Sockets connected at once per client address on this node (NGINX caps them at the edge too; this is the
  // cap in embedded mode, and a second wall behind NGINX). ip_hash keeps an address on one node.
  const connectedByAddress = new Map<string, number>();
  io.on('connection', (socket) => {
    const bucket = addressBucket(handshakeAddress(app.clientAddress, socket));
    connectedByAddress.set(bucket, (connectedByAddress.get(bucket) ?? 0) + 1);
    socket.once('disconnect', () => {
      const left = (connectedByAddress.get(bucket) ?? 1) - 1;
      if (left > 0) connectedByAddress.set(bucket, left);
      else connectedByAddress.delete(bucket);
    });
  });

  io.use((socket, next) => {
    const address = handshakeAddress(app.clientAddress, socket);
    if ((connectedByAddress.get(addressBucket(address)) ?? 0) >= config.socketsPerAddressMax) {
      handshakes.inc({ result: 'rejected', reason: 'address_sockets' });
      metrics.connections.inc({ outcome: 'RATE_LIMITED' });
      next(connectError(new ChatError('RATE_LIMITED', 'too many connections from this address', { retryAfterMs: 30_000 })));
      return;
    }
    limiter.admit(addressBucket(address)).then(
      (decision) => {
        if (decision.admitted) {
          handshakes.inc({ result: 'accepted', reason: 'within_budget' });
          next();
          return;
        }
        handshakes.inc({ result: 'rejected', reason: decision.reason });
        metrics.connections.inc({ outcome: 'RATE_LIMITED' });
        const message = decision.reason === 'ip_budget' ? 'too many new connections from this address' : 'too many new connections to this node';
        next(connectError(new ChatError('RATE_LIMITED', message, { retryAfterMs: decision.retryAfterMs })));
      },
      (err: unknown) => {
        // Neither Redis nor the in-memory insurance answered. Refusing everyone would turn a limiter fault
        // into an outage; the pools' caps still protect the database.
        app.log.warn({ err }, 'admission limiter failed; admitting');
        handshakes.inc({ result: 'accepted', reason: 'limiter_unavailable' });
        next();
      },
    );
  });
}

export const admissionFeature = fp(admission, { name: 'admission' });
