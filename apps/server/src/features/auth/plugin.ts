import { ChatError, HTTP_ROUTES, sessionChannel, userChannel } from '@chat/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { bearer } from '../../http/bearer';
import { route } from '../../http/route';
import { Accounts } from './accounts';
import { PasswordHasher } from './passwords';
import { Tokens, type AccessClaims } from './tokens';
import { RevokedSessions } from './revoked-sessions';
import { SessionRecheck } from './session-recheck';
import { searchUsers, userById } from './user-queries';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for authenticated routes: sets `request.user` or answers UNAUTHORIZED. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** What the operator API (features/ops/operator-api.ts) may do to accounts. */
    accountAdmin: AccountAdmin;
  }
  interface FastifyRequest {
    user: AccessClaims;
  }
}

/** Operator actions on accounts; each takes effect on every node at once (sessions through the cluster bus). */
export interface AccountAdmin {
  find(username: string): Promise<{ id: string; username: string; isAdmin: boolean; disabled: boolean } | undefined>;
  isAdmin(userId: string): Promise<boolean>;
  /** A new account with this password (the protocol's rules for both), made a site admin. */
  createAdmin(username: string, password: string): Promise<{ id: string; username: string }>;
  setAdmin(userId: string, isAdmin: boolean): Promise<void>;
  /** Revokes every session: HTTP refuses their tokens and their sockets are disconnected, cluster-wide. */
  revokeSessions(userId: string): Promise<number>;
  /** Disabling also revokes every session; returns how many. */
  setDisabled(userId: string, disabled: boolean): Promise<number>;
}

async function auth(app: FastifyInstance): Promise<void> {
  const { config } = app;
  const tokens = new Tokens(config.jwtSecret, config.accessTokenTtlSeconds);
  const accounts = new Accounts(app.db, tokens, new PasswordHasher(config.argon2, config.passwordHashing), config.refreshTokenTtlDays);
  const revoked = new RevokedSessions(config.accessTokenTtlSeconds * 1000, app.bus, app.io);
  app.addHook('onClose', async () => revoked.close());
  const rechecked = new Counter({
    name: 'chat_session_rechecks_total',
    help: 'Sockets whose session was checked again when their access token expired, by outcome (active, ended)',
    labelNames: ['outcome'] as const,
    registers: [app.metrics.registry],
  });
  const refreshReuse = new Counter({
    name: 'chat_refresh_reuse_total',
    help: 'Refresh tokens presented again after the grace window: their session was revoked',
    registers: [app.metrics.registry],
  });
  const refreshGrace = new Counter({
    name: 'chat_refresh_grace_total',
    help: 'Refreshes with the token rotated away moments ago, answered with the current pair',
    registers: [app.metrics.registry],
  });
  const recheck = new SessionRecheck(
    app.io,
    app.db.primary,
    config.accessTokenTtlSeconds * 1000,
    ({ active, ended }) => {
      rechecked.inc({ outcome: 'active' }, active);
      rechecked.inc({ outcome: 'ended' }, ended);
    },
    (err) => app.log.warn({ err }, 'session recheck failed; the next sweep retries'),
  );
  app.addHook('onClose', async () => recheck.close());
  app.bus.onResume(() => {
    revoked.resync(app.db.primary).catch((err: unknown) => app.log.error({ err }, 'resynchronising revoked sessions failed'));
  });

  const loginPerUser = app.rateLimiters({ keyPrefix: 'login-user', points: 10, durationSec: 60 });
  const loginPerIp = app.rateLimiters({ keyPrefix: 'login-ip', points: 100, durationSec: 60 });
  const registerPerIp = app.rateLimiters({ keyPrefix: 'register-ip', points: 300, durationSec: 60 });

  async function limit(limiter: ReturnType<typeof app.rateLimiters>, key: string): Promise<void> {
    const d = await limiter.consume(key);
    if (!d.allowed) throw new ChatError('RATE_LIMITED', 'too many attempts', { retryAfterMs: d.retryAfterMs });
  }

  const revokeAll = (sessionIds: string[]) => {
    for (const sessionId of sessionIds) revoked.revoke(sessionId);
    return sessionIds.length;
  };
  app.decorate('accountAdmin', {
    find: (username) => accounts.findByUsername(username),
    isAdmin: (userId) => accounts.isAdmin(userId),
    async createAdmin(username, password) {
      const { user } = await accounts.register({ username, password });
      await accounts.setAdmin(user.id, true);
      // register() opened a session nobody will use: the admin signs in like anyone else.
      await accounts.revokeSessions(user.id);
      return { id: user.id, username: user.username };
    },
    setAdmin: (userId, isAdmin) => accounts.setAdmin(userId, isAdmin),
    revokeSessions: async (userId) => revokeAll(await accounts.revokeSessions(userId)),
    setDisabled: async (userId, disabled) => revokeAll(await accounts.setDisabled(userId, disabled)),
  } satisfies AccountAdmin);

  app.decorateRequest('user', undefined as unknown as AccessClaims);
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const claims = tokens.verifyAccess(bearer(request.headers.authorization));
    if (revoked.has(claims.sessionId)) throw new ChatError('UNAUTHORIZED', 'session revoked');
    request.user = claims;
  });

  // Registration counts malformed attempts too: the budget is taken before the body is parsed.
  route(app, HTTP_ROUTES.register, async ({ body }) => accounts.register(body), { preHandler: (request) => limit(registerPerIp, request.clientAddress) });

  route(app, HTTP_ROUTES.login, async ({ body }, { clientAddress }) => {
    const userKey = `${body.username}|${clientAddress}`;
    await limit(loginPerIp, clientAddress);
    await limit(loginPerUser, userKey);
    const result = await accounts.login(body.username, body.password);
    if (!result) throw new ChatError('UNAUTHORIZED', 'wrong username or password');
    // Successful logins do not count toward the throttle; failed ones do.
    await Promise.all([loginPerUser.refund(userKey), loginPerIp.refund(clientAddress)]);
    return result;
  });

  route(app, HTTP_ROUTES.refresh, async ({ body }, request) => {
    const result = await accounts.refresh(body.refreshToken);
    if (result.revokedSessionId) {
      request.log.warn({ sessionId: result.revokedSessionId }, 'refresh token reuse: session revoked');
      revoked.revoke(result.revokedSessionId);
      refreshReuse.inc();
    }
    if (result.withinGrace) refreshGrace.inc();
    if (!result.tokens) throw new ChatError('UNAUTHORIZED', 'invalid refresh token');
    return result.tokens;
  });

  route(app, HTTP_ROUTES.logoutEverywhere, async (_input, { user }) => {
    for (const sessionId of await accounts.revokeSessions(user.userId)) revoked.revoke(sessionId);
  });

  // A new password signs out every other session (a stolen refresh token dies with the old password).
  route(app, HTTP_ROUTES.changePassword, async ({ body }, { user }) => {
    const key = `${user.userId}|password`;
    await limit(loginPerUser, key);
    if (!(await accounts.changePassword(user.userId, body.currentPassword, body.newPassword))) {
      throw new ChatError('FORBIDDEN', 'the current password is wrong');
    }
    await loginPerUser.refund(key);
    for (const sessionId of await accounts.revokeSessions(user.userId, user.sessionId)) revoked.revoke(sessionId);
  });

  route(app, HTTP_ROUTES.logout, async ({ body }) => {
    const sessionId = await accounts.logout(body.refreshToken);
    if (!sessionId && !tokens.parseRefresh(body.refreshToken)) throw new ChatError('UNAUTHORIZED', 'invalid refresh token');
    if (sessionId) revoked.revoke(sessionId);
  });

  route(app, HTTP_ROUTES.me, async (_input, { user: claims }) => {
    const user = await userById(app.db.primary, claims.userId);
    if (!user) throw new ChatError('UNAUTHORIZED', 'user no longer exists');
    return { user };
  });

  route(app, HTTP_ROUTES.searchUsers, async ({ query: { query } }, { user }) => ({ users: await searchUsers(app.reads.reader(user.userId), query) }));

  app.socketEvents.onConnecting(async (socket) => {
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    const claims = tokens.verifyAccess(typeof token === 'string' ? token : undefined);
    if (revoked.has(claims.sessionId)) throw new ChatError('UNAUTHORIZED', 'session revoked');
    // The user's and session's channels before the read: a membership change or a sign-out announced from now
    // on reaches this socket while it is in its handshake (socket/handshaking-sockets.ts); one announced before
    // committed before the read, which sees it. A refused socket leaves them again (Socket.IO's cleanup).
    socket.join([userChannel(claims.userId), sessionChannel(claims.sessionId)]);
    // The session check also brings the user's rooms (one database read per handshake); the rooms feature
    // joins their channels and lists them in `hello`. A failed read refuses the connection (UNAVAILABLE).
    const session = await accounts.sessionAtConnect(claims.sessionId);
    if (session === undefined) throw new ChatError('UNAUTHORIZED', 'session revoked');
    socket.data.userId = claims.userId;
    socket.data.sessionId = claims.sessionId;
    socket.data.username = claims.username;
    socket.data.displayName = session.displayName;
    socket.data.rooms = session.rooms;
    recheck.admitted(socket);
  });
}

export const authFeature = fp(auth, { name: 'auth', dependencies: ['infrastructure', 'http-policy'] });
