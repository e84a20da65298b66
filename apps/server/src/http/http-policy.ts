import { ChatError } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { installErrorHandlers } from './error-handler';
import { isOriginAllowed } from './origin-policy';
import { RouteBudgets } from './route-budgets';
import { registerSecurityHeaders } from './security-headers';

declare module 'fastify' {
  interface FastifyInstance {
    /** REST budgets by route class, applied by `route()` (http/route-budgets.ts). */
    routeBudgets: RouteBudgets;
  }
  interface FastifyRequest {
    /** The client's address by the TRUST_PROXY rule (the same as a Socket.IO handshake's). */
    readonly clientAddress: string;
  }
}

/**
 * What every HTTP request goes through, whichever feature answers it: the client's address, the origin
 * allowlist, the security headers, the REST budgets, errors in the protocol's shape, the latency metric, and
 * the read-your-writes mark after a successful write.
 */
async function httpPolicy(app: FastifyInstance): Promise<void> {
  installErrorHandlers(app);
  await registerSecurityHeaders(app);
  app.decorate('routeBudgets', new RouteBudgets(app.rateLimiters, app.config.httpBudgetMultiplier));

  app.decorateRequest('clientAddress', {
    getter(this: { raw: { socket: { remoteAddress?: string | undefined } }; headers: Record<string, string | string[] | undefined> }) {
      return app.clientAddress(this.raw.socket.remoteAddress ?? '', this.headers['x-forwarded-for']);
    },
  });

  app.addHook('onRequest', async (request) => {
    if (!isOriginAllowed(request.headers.origin, request.headers.host, app.config.allowedOrigins)) {
      throw new ChatError('FORBIDDEN', 'origin not allowed');
    }
  });

  // Latency by route pattern (one series per route, never per URL) and status class, for the dashboard
  // and alerts (deploy/prometheus/alerts.yml).
  const httpRequests = app.metrics.httpRequests;
  app.addHook('onResponse', async (request, reply) => {
    httpRequests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: `${Math.floor(reply.statusCode / 100)}xx` },
      reply.elapsedTime / 1000,
    );
  });

  // A successful write over HTTP: mark it before the answer leaves, so the caller's next read sees it.
  app.addHook('onSend', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400 && request.user) {
      app.reads.noteWrite(request.user.userId);
    }
  });
}

export const httpPolicyPlugin = fp(httpPolicy, { name: 'http-policy', dependencies: ['infrastructure'] });
