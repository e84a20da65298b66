import { ChatError, HTTP_ROUTES, LIMITS, sessionChannel, userChannel } from '@chat/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import { Accounts } from './accounts';
import { Tokens, type AccessClaims } from './tokens';
import { toUser } from './user-view';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for authenticated routes: sets `request.user` or answers UNAUTHORIZED. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    user: AccessClaims;
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

async function auth(app: FastifyInstance): Promise<void> {
  const { config } = app;
  const tokens = new Tokens(config.jwtSecret, config.accessTokenTtlSeconds);
  const accounts = new Accounts(app.db, tokens, config.argon2, config.refreshTokenTtlDays);
  // Access tokens are stateless and short-lived; revoked sessions are refused at once on every node (told
  // through the adapter), kept for one access-token lifetime; socket handshakes check the database.
  const revoked = new Map<string, number>();
  const remember = (sessionId: string) => revoked.set(sessionId, Date.now() + config.accessTokenTtlSeconds * 1000);
  const prune = setInterval(() => {
    const now = Date.now();
    for (const [id, until] of revoked) if (until < now) revoked.delete(id);
  }, 60_000).unref();
  app.addHook('onClose', async () => clearInterval(prune));
  if (app.redis) app.io.on('session:revoked', (sessionId) => remember(sessionId));

  const loginPerUser = app.rateLimiters({ keyPrefix: 'login-user', points: 10, durationSec: 60 });
  const loginPerIp = app.rateLimiters({ keyPrefix: 'login-ip', points: 100, durationSec: 60 });
  const registerPerIp = app.rateLimiters({ keyPrefix: 'register-ip', points: 300, durationSec: 60 });

  async function limit(limiter: ReturnType<typeof app.rateLimiters>, key: string): Promise<void> {
    const d = await limiter.consume(key);
    if (!d.allowed) throw new ChatError('RATE_LIMITED', 'too many attempts', { retryAfterMs: d.retryAfterMs });
  }

  function revokeSession(sessionId: string): void {
    remember(sessionId);
    if (app.redis) app.io.serverSideEmit('session:revoked', sessionId);
    app.io.in(sessionChannel(sessionId)).disconnectSockets(true);
  }

  app.decorateRequest('user', undefined as unknown as AccessClaims);
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const claims = tokens.verifyAccess(bearer(request.headers.authorization));
    if (revoked.has(claims.sessionId)) throw new ChatError('UNAUTHORIZED', 'session revoked');
    request.user = claims;
  });

  // Registration counts malformed attempts too: the budget is taken before the body is parsed.
  route(app, HTTP_ROUTES.register, async ({ body }) => accounts.register(body), { preHandler: (request) => limit(registerPerIp, request.ip) });

  route(app, HTTP_ROUTES.login, async ({ body }, request) => {
    const userKey = `${body.username}|${request.ip}`;
    await limit(loginPerIp, request.ip);
    await limit(loginPerUser, userKey);
    const result = await accounts.login(body.username, body.password);
    if (!result) throw new ChatError('UNAUTHORIZED', 'wrong username or password');
    // Successful logins do not count toward the throttle; failed ones do.
    await Promise.all([loginPerUser.refund(userKey), loginPerIp.refund(request.ip)]);
    return result;
  });

  route(app, HTTP_ROUTES.refresh, async ({ body }, request) => {
    const result = await accounts.refresh(body.refreshToken);
    if (result.revokedSessionId) {
      request.log.warn({ sessionId: result.revokedSessionId }, 'refresh token reuse: session revoked');
      revokeSession(result.revokedSessionId);
    }
    if (!result.tokens) throw new ChatError('UNAUTHORIZED', 'invalid refresh token');
    return result.tokens;
  });

  route(app, HTTP_ROUTES.logout, async ({ body }) => {
    const sessionId = await accounts.logout(body.refreshToken);
    if (!sessionId && !tokens.parseRefresh(body.refreshToken)) throw new ChatError('UNAUTHORIZED', 'invalid refresh token');
    if (sessionId) revokeSession(sessionId);
  });

  route(app, HTTP_ROUTES.me, async (_input, request) => {
    const row = await app.db.primary
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'created_at'])
      .where('id', '=', request.user.userId)
      .executeTakeFirst();
    if (!row) throw new ChatError('UNAUTHORIZED', 'user no longer exists');
    return { user: toUser(row) };
  });

  route(app, HTTP_ROUTES.searchUsers, async ({ query: { query } }, request) => {
    const prefix = query.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await app.reads
      .reader(request.user.userId)
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'created_at'])
      .where('username', 'like', `${prefix}%`)
      .orderBy('username')
      .limit(LIMITS.userSearchMax)
      .execute();
    return { users: rows.map(toUser) };
  });

  app.socketEvents.onConnecting(async (socket) => {
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    const claims = tokens.verifyAccess(typeof token === 'string' ? token : undefined);
    if (revoked.has(claims.sessionId) || !(await accounts.isSessionActive(claims.sessionId))) {
      throw new ChatError('UNAUTHORIZED', 'session revoked');
    }
    socket.data.userId = claims.userId;
    socket.data.sessionId = claims.sessionId;
    socket.data.username = claims.username;
    socket.data.displayName = claims.displayName;
    socket.join([userChannel(claims.userId), sessionChannel(claims.sessionId)]);
  });
}

export const authFeature = fp(auth, { name: 'auth' });
