import { createHmac, randomBytes } from 'node:crypto';
import type { AuthResponse, HttpErrorBody, TokensResponse, User } from '@chat/protocol';
import { io } from 'socket.io-client';
import { loadConfig } from '../src/index';
import { http, registerUser, TEST_JWT_SECRET, type RawSocket, type TestNode } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

// The production cost (the harness lowers it for speed elsewhere): this file checks the stored hash.
const defaultArgon2 = loadConfig({ JWT_SECRET: TEST_JWT_SECRET }).argon2;

function rand(n = 4): string {
  return randomBytes(n).toString('hex');
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A correctly signed access token whose `exp` is in the past. */
function expiredAccessToken(user: User, sessionId: string): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url({ sub: user.id, sid: sessionId, usr: user.username, dn: user.displayName, iat: now - 3600, exp: now - 60 });
  const sig = createHmac('sha256', TEST_JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function sessionOf(refreshToken: string): string {
  return refreshToken.split('.')[0]!;
}

function disconnected(socket: RawSocket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

/** A handshake that must fail: resolves with the connect_error. */
function connectError(node: TestNode, auth: Record<string, unknown>): Promise<Error & { data?: { code?: string; message?: string } }> {
  const socket = io(node.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error('handshake unexpectedly accepted'));
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err as Error & { data?: { code?: string } });
    });
  });
}

describeOnEachBackend('auth', { adjust: (config) => ({ ...config, argon2: defaultArgon2 }) }, (node) => {
  const register = (body: unknown) => http<AuthResponse & HttpErrorBody>(node.url, 'POST', '/api/auth/register', { body });
  const login = (username: string, password: string) =>
    http<AuthResponse & HttpErrorBody>(node.url, 'POST', '/api/auth/login', { body: { username, password } });
  const refresh = (refreshToken: string) => http<TokensResponse & HttpErrorBody>(node.url, 'POST', '/api/auth/refresh', { body: { refreshToken } });
  const me = (token?: string) => http<{ user: User } & HttpErrorBody>(node.url, 'GET', '/api/me', token ? { token } : {});

  async function connect(token: string): Promise<RawSocket> {
    const { socket } = await node.connect(token);
    return socket;
  }

  /** An acknowledged round trip: proves the socket is still connected and served. */
  async function alive(socket: RawSocket): Promise<boolean> {
    if (!socket.connected) return false;
    const ack = await socket.timeout(5000).emitWithAck('presence:get', { userIds: [] });
    return ack.ok;
  }

  test('register: 201 with the user and tokens; username lower-cased, displayName defaults to it', async () => {
    const name = `MiXed_${rand()}`;
    const res = await register({ username: name, password: 'password1' });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), username: name.toLowerCase(), displayName: name.toLowerCase(), createdAt: expect.any(String) });
    expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt);
    expect(typeof res.body.accessToken).toBe('string');
    expect(typeof res.body.refreshToken).toBe('string');

    const named = await register({ username: `named_${rand()}`, password: 'password1', displayName: 'Ada Lovelace' });
    expect(named.status).toBe(201);
    expect(named.body.user.displayName).toBe('Ada Lovelace');
    expect((await me(named.body.accessToken)).body.user).toEqual(named.body.user);
  });

  test('the stored password hash is argon2id with m=19456,t=2,p=1 under the default configuration', async () => {
    expect(defaultArgon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const res = await register({ username: `hash_${rand()}`, password: 'password1' });
    expect(res.status).toBe(201);
    const row = await node.app.db.primary.selectFrom('users').select('password_hash').where('id', '=', res.body.user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(row.password_hash).not.toContain('password1');
  });

  test('username length and charset: 3 and 32 chars pass; 2, 33 and bad characters are VALIDATION', async () => {
    const three = rand(2).slice(0, 3);
    const thirtyTwo = `x${rand(16)}`.slice(0, 32);
    expect((await register({ username: three, password: 'password1' })).status).toBe(201);
    expect((await register({ username: thirtyTwo, password: 'password1' })).status).toBe(201);
    for (const username of ['ab', `y${rand(16)}`.slice(0, 33), 'a-b-c', 'has space', 'dot.ted', 'émile', 'semi;colon', '', 42, null]) {
      const res = await register({ username, password: 'password1' });
      expect({ username, status: res.status, code: res.body.error?.code }).toEqual({ username, status: 400, code: 'VALIDATION' });
      expect(typeof res.body.error.message).toBe('string');
    }
  });

  test('password length: 7 and 129 are VALIDATION, 8 and 128 pass', async () => {
    for (const [len, status] of [
      [7, 400],
      [8, 201],
      [128, 201],
      [129, 400],
    ] as const) {
      const res = await register({ username: `pw_${len}_${rand()}`, password: 'p'.repeat(len) });
      expect({ len, status: res.status }).toEqual({ len, status });
      if (status === 400) expect(res.body.error.code).toBe('VALIDATION');
      else expect((await login(res.body.user.username, 'p'.repeat(len))).status).toBe(200);
    }
  });

  test('a taken username, in any case, is CONFLICT', async () => {
    const username = `dup_${rand()}`;
    expect((await register({ username, password: 'password1' })).status).toBe(201);
    for (const variant of [username, username.toUpperCase()]) {
      const res = await register({ username: variant, password: 'password2' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
    }
    // The original account is untouched.
    expect((await login(username, 'password1')).status).toBe(200);
    expect((await login(username, 'password2')).status).toBe(401);
  });

  test('login: right password 200 (username case-insensitive); wrong password and unknown user give the same 401', async () => {
    const user = await registerUser(node, 'login');
    const ok = await login(user.user.username.toUpperCase(), user.password);
    expect(ok.status).toBe(200);
    expect(ok.body.user).toEqual(user.user);
    expect(ok.body.refreshToken).not.toBe(user.refreshToken);
    expect((await me(ok.body.accessToken)).status).toBe(200);

    const wrong = await login(user.user.username, 'not the password');
    const unknown = await login(`nobody_${rand()}`, 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(unknown.body).toEqual(wrong.body);
  });

  test('/api/me: 200 with a valid token; 401 without, garbled, forged or expired', async () => {
    const user = await registerUser(node, 'me');
    const ok = await me(user.accessToken);
    expect(ok.status).toBe(200);
    expect(ok.body.user).toEqual(user.user);

    const [head, body] = user.accessToken.split('.') as [string, string, string];
    const forged = `${head}.${body}.${createHmac('sha256', 'another-secret-another-secret-000000').update(`${head}.${body}`).digest('base64url')}`;
    const cases: [string, Record<string, string>][] = [
      ['none', {}],
      ['garbled', { authorization: 'Bearer not.a.jwt' }],
      ['forged', { authorization: `Bearer ${forged}` }],
      ['expired', { authorization: `Bearer ${expiredAccessToken(user.user, sessionOf(user.refreshToken))}` }],
      ['not bearer', { authorization: `Basic ${user.accessToken}` }],
    ];
    for (const [label, headers] of cases) {
      const res = await http<HttpErrorBody>(node.url, 'GET', '/api/me', { headers });
      expect({ label, status: res.status, code: res.body.error.code }).toEqual({ label, status: 401, code: 'UNAUTHORIZED' });
    }
  });

  test('refresh rotates; presenting a rotated token revokes the whole session and disconnects its sockets', async () => {
    const user = await registerUser(node, 'refresh');
    const other = await login(user.user.username, user.password);
    const otherSocket = await connect(other.body.accessToken);

    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    expect((await me(first.body.accessToken)).status).toBe(200);

    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
    const socket = await connect(second.body.accessToken);
    const gone = disconnected(socket);

    // Reuse of an already-rotated token: refused, and the family is revoked.
    const reuse = await refresh(user.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('UNAUTHORIZED');
    expect(await gone).toBe('io server disconnect');
    const rotated = await refresh(second.body.refreshToken);
    expect(rotated.status).toBe(401);
    expect(rotated.body.error.code).toBe('UNAUTHORIZED');
    expect((await me(second.body.accessToken)).status).toBe(401);
    expect((await connectError(node, { token: second.body.accessToken })).message).toBe('UNAUTHORIZED');

    // The user's other session is untouched.
    expect(await alive(otherSocket)).toBe(true);
    expect((await me(other.body.accessToken)).status).toBe(200);
    expect((await refresh(other.body.refreshToken)).status).toBe(200);
  });

  test('refresh with a malformed or forged token is 401 and revokes nothing', async () => {
    const user = await registerUser(node, 'forge');
    const [sid, gen] = user.refreshToken.split('.') as [string, string, string];
    for (const token of ['garbage', `${sid}.${gen}.AAAA`, `${sid}.x.y`, `${sid}.0`]) {
      const res = await refresh(token);
      expect({ token, status: res.status, code: res.body.error?.code }).toEqual({ token, status: 401, code: 'UNAUTHORIZED' });
    }
    expect((await refresh(user.refreshToken)).status).toBe(200);
    expect((await http<HttpErrorBody>(node.url, 'POST', '/api/auth/refresh', { body: {} })).body.error.code).toBe('VALIDATION');
  });

  test('logout: 204, the session sockets are disconnected, its refresh token is dead, another session is unaffected', async () => {
    const user = await registerUser(node, 'logout');
    const second = await login(user.user.username, user.password);
    const socketA = await connect(user.accessToken);
    const socketA2 = await connect(user.accessToken);
    const socketB = await connect(second.body.accessToken);
    const goneA = disconnected(socketA);
    const goneA2 = disconnected(socketA2);

    const out = await http(node.url, 'POST', '/api/auth/logout', { body: { refreshToken: user.refreshToken } });
    expect(out.status).toBe(204);
    expect(out.body).toBeUndefined();
    expect(await goneA).toBe('io server disconnect');
    expect(await goneA2).toBe('io server disconnect');

    const dead = await refresh(user.refreshToken);
    expect(dead.status).toBe(401);
    expect(dead.body.error.code).toBe('UNAUTHORIZED');
    expect((await me(user.accessToken)).status).toBe(401);
    const refused = await connectError(node, { token: user.accessToken });
    expect(refused.message).toBe('UNAUTHORIZED');
    expect(refused.data?.code).toBe('UNAUTHORIZED');

    expect(await alive(socketB)).toBe(true);
    expect((await me(second.body.accessToken)).status).toBe(200);
    const rotated = await refresh(second.body.refreshToken);
    expect(rotated.status).toBe(200);
    expect((await me(rotated.body.accessToken)).status).toBe(200);
  });

  test('/api/users: prefix search, case-insensitive, at most 20, % and _ are literal', async () => {
    const p = `s${rand(3)}`;
    const me1 = await register({ username: `${p}_me`, password: 'password1' });
    const names = Array.from({ length: 21 }, (_, i) => `${p}x${String(i).padStart(2, '0')}`);
    for (const username of names) expect((await register({ username, password: 'password1' })).status).toBe(201);
    // The search reads a replica: the other users' sign-ups must have reached it (a CI run once saw 18 of 21).
    await node.replicaCaughtUp();
    const search = (query: string) =>
      http<{ users: User[] }>(node.url, 'GET', `/api/users?query=${encodeURIComponent(query)}`, { token: me1.body.accessToken });

    const all = await search(p.toUpperCase());
    expect(all.status).toBe(200);
    expect(all.body.users).toHaveLength(20);
    expect(all.body.users.every((u) => u.username.startsWith(p))).toBe(true);
    expect(all.body.users[0]).toEqual({ id: expect.any(String), username: expect.any(String), displayName: expect.any(String), createdAt: expect.any(String) });

    const underscore = await search(`${p}_`);
    expect(underscore.body.users.map((u) => u.username)).toEqual([`${p}_me`]);
    expect((await search(`${p}%`)).body.users).toEqual([]);
    expect((await search('%')).body.users).toEqual([]);
    expect((await search(`${p}x0`)).body.users.map((u) => u.username)).toEqual(names.slice(0, 10));
    expect((await search(`zz${rand()}`)).body.users).toEqual([]);
    expect((await http(node.url, 'GET', `/api/users?query=${p}`)).status).toBe(401);
  });

  test('login throttling: 10 failures per username and IP within a minute, then 429 RATE_LIMITED with retryAfterMs', async () => {
    const victim = await registerUser(node, 'throttle');
    for (let i = 0; i < 10; i++) expect((await login(victim.user.username, `wrong-password-${i}`)).status).toBe(401);
    const limited = await login(victim.user.username, 'wrong-password-x');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.any(String) });
    expect(limited.body.error.retryAfterMs).toBeGreaterThan(0);
    expect(limited.body.error.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The right password is throttled too while the window lasts.
    expect((await login(victim.user.username.toUpperCase(), victim.password)).status).toBe(429);

    // Successful logins do not count: 12 successes, then still 10 failures before the limit.
    const steady = await registerUser(node, 'steady');
    for (let i = 0; i < 12; i++) expect((await login(steady.user.username, steady.password)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await login(steady.user.username, `wrong-${i}`)).status).toBe(401);
    expect((await login(steady.user.username, 'wrong-11')).status).toBe(429);
  });

  test('a socket handshake with a bad, expired or missing token gets connect_error UNAUTHORIZED', async () => {
    const user = await registerUser(node, 'hs');
    for (const auth of [{ token: 'nope' }, { token: expiredAccessToken(user.user, sessionOf(user.refreshToken)) }, {}, { token: 42 }]) {
      const err = await connectError(node, auth);
      expect(err.message).toBe('UNAUTHORIZED');
      expect(err.data).toMatchObject({ code: 'UNAUTHORIZED', message: expect.any(String) });
    }
    // The valid token still connects.
    const socket = await connect(user.accessToken);
    expect(await alive(socket)).toBe(true);
  });
});
