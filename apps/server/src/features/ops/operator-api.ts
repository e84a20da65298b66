import { timingSafeEqual } from 'node:crypto';
import { ChatError, PasswordSchema, UsernameSchema, type HttpRoute } from '@chat/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { bearer } from '../../http/bearer';
import { route } from '../../http/route';

/**
 * The operator API, for people who run the cluster and not for chat clients (so not in docs/PROTOCOL.md;
 * docs/operations.md describes it): the admin command line (`pnpm admin`, apps/server/src/admin-main.ts)
 * and QA's reconnect storm use it. Every route takes `Authorization: Bearer <OPS_TOKEN>` or the access
 * token of a site admin; anything else is UNAUTHORIZED (no or bad credentials) or FORBIDDEN (a user who is
 * not an admin). Errors are the protocol's.
 */
const UserParams = z.object({ username: UsernameSchema });

const OPERATOR_ROUTES = {
  createAdmin: {
    method: 'POST',
    path: '/ops/admins',
    auth: false,
    // An existing user is made an admin (no password needed); a new one needs a password.
    body: z.object({ username: UsernameSchema, password: PasswordSchema.optional() }),
    response: z.object({ user: z.object({ id: z.string(), username: z.string() }), created: z.boolean() }),
    success: [200, 201],
    budget: 'ops',
  },
  revokeAdmin: { method: 'DELETE', path: '/ops/admins/:username', auth: false, params: UserParams, success: [204], budget: 'ops' },
  revokeSessions: {
    method: 'POST',
    path: '/ops/users/:username/revoke-sessions',
    auth: false,
    params: UserParams,
    response: z.object({ revoked: z.number() }),
    success: [200],
    budget: 'ops',
  },
  disable: {
    method: 'POST',
    path: '/ops/users/:username/disable',
    auth: false,
    params: UserParams,
    response: z.object({ revoked: z.number() }),
    success: [200],
    budget: 'ops',
  },
  enable: { method: 'POST', path: '/ops/users/:username/enable', auth: false, params: UserParams, success: [204], budget: 'ops' },
  // Closes sockets as a crash or a network cut would (the transport, not a Socket.IO disconnect), so clients
  // reconnect by themselves: this node's, or every node's (through the cluster bus).
  dropSockets: {
    method: 'POST',
    path: '/ops/sockets/drop',
    auth: false,
    body: z.object({ scope: z.enum(['node', 'cluster']) }),
    response: z.object({ node: z.string(), scope: z.enum(['node', 'cluster']), dropped: z.number() }),
    success: [200],
    budget: 'ops',
  },
} as const satisfies Record<string, HttpRoute>;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function operatorApi(app: FastifyInstance): Promise<void> {
  const { accountAdmin, config } = app;

  const authorize = async (request: FastifyRequest) => {
    const token = bearer(request.headers.authorization);
    if (token === undefined) throw new ChatError('UNAUTHORIZED', 'operator credentials required');
    if (config.opsToken !== undefined && sameSecret(token, config.opsToken)) return;
    // Otherwise it must be a site admin's access token (app.authenticate: valid, session not revoked).
    await app.authenticate(request);
    if (!(await accountAdmin.isAdmin(request.user.userId))) throw new ChatError('FORBIDDEN', 'site admins only');
    request.log.info({ admin: request.user.userId, url: request.url }, 'operator API used by a site admin');
  };

  const existing = async (username: string) => {
    const user = await accountAdmin.find(username);
    if (!user) throw new ChatError('NOT_FOUND', 'no such user');
    return user;
  };

  const dropLocal = () => {
    const sockets = [...app.io.of('/').sockets.values()];
    for (const socket of sockets) socket.conn.close();
    return sockets.length;
  };
  app.bus.subscribe('ops:drop-sockets', () => {
    app.log.warn({ dropped: dropLocal() }, 'operator dropped every socket of the cluster');
  });

  route(app, OPERATOR_ROUTES.createAdmin, async ({ body }, _request, reply) => {
    const user = await accountAdmin.find(body.username);
    if (user) {
      await accountAdmin.setAdmin(user.id, true);
      return { user: { id: user.id, username: user.username }, created: false };
    }
    if (body.password === undefined) throw new ChatError('VALIDATION', 'a new admin needs a password', { details: { field: 'password' } });
    reply.status(201);
    return { user: await accountAdmin.createAdmin(body.username, body.password), created: true };
  }, { preHandler: authorize });

  route(app, OPERATOR_ROUTES.revokeAdmin, async ({ params }) => {
    await accountAdmin.setAdmin((await existing(params.username)).id, false);
  }, { preHandler: authorize });

  route(app, OPERATOR_ROUTES.revokeSessions, async ({ params }) => ({
    revoked: await accountAdmin.revokeSessions((await existing(params.username)).id),
  }), { preHandler: authorize });

  route(app, OPERATOR_ROUTES.disable, async ({ params }) => ({
    revoked: await accountAdmin.setDisabled((await existing(params.username)).id, true),
  }), { preHandler: authorize });

  route(app, OPERATOR_ROUTES.enable, async ({ params }) => {
    await accountAdmin.setDisabled((await existing(params.username)).id, false);
  }, { preHandler: authorize });

  route(app, OPERATOR_ROUTES.dropSockets, async ({ body }, request) => {
    if (body.scope === 'cluster') app.bus.publish('ops:drop-sockets');
    const dropped = dropLocal();
    request.log.warn({ scope: body.scope, dropped }, 'operator dropped sockets');
    return { node: config.nodeId, scope: body.scope, dropped };
  }, { preHandler: authorize });
}

export const operatorApiFeature = fp(operatorApi, { name: 'operator-api', dependencies: ['auth', 'infrastructure'] });
