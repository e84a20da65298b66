import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ensureServerBuild, REPO_ROOT, startRedis, type RedisServer } from '@chat/testkit';
import { connectRaw, createDataHome, http, registerUser, startNode, type DataHome, type TestNode } from './support/harness';

// The operator API and the admin command line (issue 11, item 7) on PostgreSQL: who may use it, and what
// each command does to live sessions and sockets. The command line runs as operators run it (the built
// dist/admin.js, against the node's URL).

const OPS_TOKEN = 'ops-token-ops-token-ops-token-0123456789';

/** Runs the command line (asynchronously: the node it calls runs in this process). */
function admin(node: TestNode, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(REPO_ROOT, 'apps/server/dist/admin.js'), ...args],
      { env: { PATH: process.env.PATH, CHAT_URL: node.url, OPS_TOKEN, ...env }, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, out: stdout.trim(), err: stderr.trim() }),
    );
    // Standard input is empty (create-admin reads a password from it when ADMIN_PASSWORD is not set).
    child.stdin?.end();
  });
}

const disconnected = (socket: { once(event: 'disconnect', listener: (reason: string) => void): unknown }) =>
  new Promise<string>((resolve) => socket.once('disconnect', resolve));

describe('operator API and `pnpm admin` on postgres', () => {
  let home: DataHome;
  let node: TestNode;
  beforeAll(async () => {
    ensureServerBuild();
    home = await createDataHome('postgres');
    node = await startNode(home, { OPS_TOKEN });
  });
  afterAll(async () => {
    await node?.close();
    await home?.dispose();
  });

  test('no credentials or a wrong token is UNAUTHORIZED, a user who is not an admin FORBIDDEN; nothing changes', async () => {
    const target = await registerUser(node);
    const path = `/ops/users/${target.user.username}/disable`;
    expect(await http(node.url, 'POST', path)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await http(node.url, 'POST', path, { token: `${OPS_TOKEN}x` })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    const someone = await registerUser(node);
    expect(await http(node.url, 'POST', path, { token: someone.accessToken })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    // Still enabled: the target signs in.
    expect((await http(node.url, 'POST', '/api/auth/login', { body: { username: target.user.username, password: target.password } })).status).toBe(200);
    // Bad input is the protocol's VALIDATION; an unknown user NOT_FOUND.
    expect(await http(node.url, 'POST', '/ops/users/NOT%20A%20NAME/disable', { token: OPS_TOKEN })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION' } } });
    expect(await http(node.url, 'POST', '/ops/users/nobody_here_123/disable', { token: OPS_TOKEN })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await http(node.url, 'POST', '/ops/sockets/drop', { token: OPS_TOKEN, body: { scope: 'everything' } })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION' } } });
  });

  test('create-admin makes a new account a site admin, whose own token then opens the operator API', async () => {
    const username = `boss_${Date.now().toString(36)}`;
    const created = await admin(node, ['create-admin', username], { ADMIN_PASSWORD: 'correct horse battery staple' });
    expect(created).toEqual({ code: 0, out: `${username} is a site admin (new account)`, err: '' });
    const login = await http<{ accessToken: string }>(node.url, 'POST', '/api/auth/login', { body: { username, password: 'correct horse battery staple' } });
    expect(login.status).toBe(200);
    const target = await registerUser(node);
    expect(await http(node.url, 'POST', `/ops/users/${target.user.username}/revoke-sessions`, { token: login.body.accessToken })).toEqual({ status: 200, body: { revoked: 1 } });
    // An existing user is promoted without a password, and remove-admin takes it back.
    expect(await admin(node, ['create-admin', target.user.username])).toEqual({ code: 0, out: `${target.user.username} is a site admin`, err: '' });
    expect(await admin(node, ['remove-admin', username])).toMatchObject({ code: 0 });
    expect(await http(node.url, 'POST', `/ops/users/${target.user.username}/enable`, { token: login.body.accessToken })).toMatchObject({ status: 403 });
    // A new admin without a password is refused and not created.
    expect(await admin(node, ['create-admin', 'no_password_admin'], { ADMIN_PASSWORD: '' })).toMatchObject({ code: 1, err: expect.stringContaining('VALIDATION') });
    expect(await http(node.url, 'POST', '/ops/users/no_password_admin/enable', { token: OPS_TOKEN })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  test('revoke-sessions signs the user out everywhere: sockets disconnected, access and refresh tokens refused', async () => {
    const user = await registerUser(node);
    const { socket } = await connectRaw(node, user.accessToken);
    const gone = disconnected(socket);
    expect(await admin(node, ['revoke-sessions', user.user.username])).toEqual({ code: 0, out: `revoked 1 session(s) of ${user.user.username}`, err: '' });
    expect(await gone).toBe('io server disconnect');
    expect((await http(node.url, 'GET', '/api/me', { token: user.accessToken })).status).toBe(401);
    expect((await http(node.url, 'POST', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    // The password still works: a new sign-in is a new session.
    expect((await http(node.url, 'POST', '/api/auth/login', { body: { username: user.user.username, password: user.password } })).status).toBe(200);
  });

  test('disable refuses sign-in with FORBIDDEN and ends every session; enable lets the user back', async () => {
    const user = await registerUser(node);
    const { socket } = await connectRaw(node, user.accessToken);
    const gone = disconnected(socket);
    expect(await admin(node, ['disable', user.user.username])).toEqual({ code: 0, out: `${user.user.username} is disabled; revoked 1 session(s)`, err: '' });
    await gone;
    const refused = await http(node.url, 'POST', '/api/auth/login', { body: { username: user.user.username, password: user.password } });
    expect(refused).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'this account is disabled' } } });
    // A wrong password still says only that.
    expect((await http(node.url, 'POST', '/api/auth/login', { body: { username: user.user.username, password: 'wrong wrong wrong' } })).status).toBe(401);
    await expect(connectRaw(node, user.accessToken)).rejects.toThrow();
    expect(await admin(node, ['enable', user.user.username])).toEqual({ code: 0, out: `${user.user.username} is enabled`, err: '' });
    expect((await http(node.url, 'POST', '/api/auth/login', { body: { username: user.user.username, password: user.password } })).status).toBe(200);
  });

  test('the command line explains usage, a missing token and the server refusal, with exit codes 2, 2 and 1', async () => {
    expect(await admin(node, ['frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown command: frobnicate') });
    expect(await admin(node, ['disable'])).toMatchObject({ code: 2, err: expect.stringContaining('usage: pnpm admin') });
    expect(await admin(node, ['disable', 'someone'], { OPS_TOKEN: '' })).toMatchObject({ code: 2, err: expect.stringContaining('OPS_TOKEN is not set') });
    expect(await admin(node, ['disable', 'nobody_here_456'])).toEqual({ code: 1, out: '', err: 'admin: 404 NOT_FOUND no such user' });
    expect(await admin(node, ['disable', 'someone'], { OPS_TOKEN: 'x'.repeat(40) })).toMatchObject({ code: 1, err: expect.stringContaining('401 UNAUTHORIZED') });
  });
});

describe('drop-sockets --cluster on two nodes with Redis', () => {
  let home: DataHome;
  let redis: RedisServer;
  const nodes: TestNode[] = [];
  beforeAll(async () => {
    ensureServerBuild();
    home = await createDataHome('postgres');
    // A Redis of its own: a cluster-wide drop reaches every node on the same Redis, and the suite's other
    // files run their nodes on the shared one at the same time.
    redis = await startRedis();
    const env = { OPS_TOKEN, REDIS_URL: redis.url };
    nodes.push(await startNode(home, env), await startNode(home, env));
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await redis?.stop();
    await home?.dispose();
  });

  test('every socket of every node is cut at the transport (as a crash would) and reconnects by itself', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    const user = await registerUser(a);
    const clients = await Promise.all([a, a, b].map((n) => connectRaw(n, user.accessToken, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200 })));
    const reasons = clients.map(({ socket }) => disconnected(socket));
    const rejoined = clients.map(({ socket }) => new Promise<void>((resolve) => socket.once('hello', () => resolve())));
    const dropped = await admin(a, ['drop-sockets', '--cluster']);
    expect(dropped).toMatchObject({ code: 0, out: expect.stringMatching(/^dropped 2 socket\(s\) on node-\w+; every other node was told to drop its own$/) });
    expect(await Promise.all(reasons)).toEqual(['transport close', 'transport close', 'transport close']);
    await Promise.all(rejoined);
    for (const { socket } of clients) socket.close();
    // Node scope: only the node asked.
    const local = await connectRaw(b, user.accessToken);
    const other = await connectRaw(a, user.accessToken);
    const localGone = disconnected(local.socket);
    expect(await admin(b, ['drop-sockets'])).toMatchObject({ code: 0, out: expect.stringMatching(/^dropped 1 socket\(s\) on node-\w+$/) });
    expect(await localGone).toBe('transport close');
    expect(other.socket.connected).toBe(true);
    other.socket.close();
  });
});
