import { ChatError, HTTP_ROUTES } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';

declare module 'fastify' {
  interface FastifyInstance {
    /** Process lifecycle shared with main.ts: while draining, /readyz answers 503 and handshakes are refused. */
    lifecycle: { draining: boolean };
  }
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function ops(app: FastifyInstance): Promise<void> {
  app.decorate('lifecycle', { draining: false });

  // A draining node takes no new sockets; the client retries (elsewhere, once the listener is closed).
  app.socketEvents.onConnecting(async () => {
    if (app.lifecycle.draining) throw new ChatError('UNAVAILABLE', 'node is draining', { retryAfterMs: 500 + Math.floor(Math.random() * 2000) });
  });

  route(app, HTTP_ROUTES.health, async () => ({ status: 'ok' as const }));

  route(app, HTTP_ROUTES.ready, async (_input, _request, reply) => {
    const node = app.config.nodeId;
    if (app.lifecycle.draining) return reply.status(503).send({ status: 'draining', node, failing: 'draining' });
    // The primary database, then whatever the node's mode depends on (Redis in cluster mode).
    for (const { name, check } of app.readiness) {
      try {
        await withTimeout(check(), CHECK_TIMEOUT_MS);
      } catch {
        return reply.status(503).send({ status: 'unavailable', node, failing: name });
      }
    }
    return { status: 'ready' as const, node };
  });

  route(app, HTTP_ROUTES.metrics, async (_input, _request, reply) => {
    return reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics());
  });
}

export const opsFeature = fp(ops, { name: 'ops' });
