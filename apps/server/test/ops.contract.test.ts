import { randomUUID } from 'node:crypto';
import { sql } from '@chat/db';
import { io } from 'socket.io-client';
import { testServices } from '@chat/testkit';
import { createDataHome, createRoom, http, registerUser, startNode, type DataHome, type TestNode } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

describeOnEachBackend('operations', { env: { ALLOWED_ORIGINS: 'http://app.example.test' } }, (node) => {
  test('healthz, and readyz naming the same node as hello', async () => {
    expect(await http(node.url, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await http<{ status: string; node: string }>(node.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    const user = await registerUser(node);
    const { hello } = await node.connect(user.accessToken);
    expect(hello).toMatchObject({ userId: user.user.id, protocol: 1, node: ready.body.node, rooms: [] });
  });

  test('readyz turns 503 while draining', async () => {
    node.app.lifecycle.draining = true;
    try {
      expect(await http(node.url, 'GET', '/readyz')).toMatchObject({ status: 503, body: { failing: 'draining' } });
    } finally {
      node.app.lifecycle.draining = false;
    }
  });

  test('metrics: Prometheus text with chat_ counters that move', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    const { socket } = await node.connect(user.accessToken);
    const read = async () => (await fetch(`${node.url}/metrics`)).text();
    const persisted = (text: string) => Number(/^chat_messages_persisted_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    const before = persisted(await read());
    expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'count me' })).toMatchObject({ ok: true });
    const text = await read();
    expect(persisted(text)).toBe(before + 1);
    expect(text).toMatch(/^chat_sockets_connected\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^chat_persist_batch_size_count/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });

  test('origin allowlist: foreign browser origins are refused over HTTP and at the handshake', async () => {
    const user = await registerUser(node);
    const foreign = await http<{ error: { code: string } }>(node.url, 'GET', '/api/me', {
      token: user.accessToken,
      headers: { origin: 'http://evil.example.test' },
    });
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const allowed = await http(node.url, 'GET', '/api/me', { token: user.accessToken, headers: { origin: 'http://app.example.test' } });
    expect(allowed.status).toBe(200);
    const sameOrigin = await http(node.url, 'GET', '/api/me', { token: user.accessToken, headers: { origin: node.url } });
    expect(sameOrigin.status).toBe(200);

    const refused = io(node.url, {
      auth: { token: user.accessToken },
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example.test' },
      reconnection: false,
      forceNew: true,
    });
    const err = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    refused.close();
    expect(err).toBeInstanceOf(Error);
    expect(refused.connected).toBe(false);
  });

  // Destructive, so last: breaks the schema under the running node.
  test('an internal error is answered INTERNAL with a generic message, never its details', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    const { socket } = await node.connect(user.accessToken);
    const sent = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'before' });
    if (!sent.ok) throw new Error('send failed');
    await sql`alter table reactions rename to reactions_gone`.execute(node.app.db.primary);

    const ack = await socket.emitWithAck('reaction:add', { messageId: sent.message.id, emoji: '👍' });
    expect(ack).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'internal error' } });
    const history = await http<{ error: unknown }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: user.accessToken });
    expect(history).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    expect(JSON.stringify(history.body)).not.toMatch(/reactions|relation|select|at /i);
    // The node stays up.
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
  });
});

// The signals of deploy/prometheus/alerts.yml, read from a real node (PostgreSQL with its replica, Redis).
describe('operator metrics on postgres with Redis', () => {
  let home: DataHome;
  let node: TestNode;
  beforeAll(async () => {
    home = await createDataHome('postgres');
    node = await startNode(home, { REDIS_URL: testServices().redisUrl, GROUP_COMMIT_MAX_QUEUE: '777' });
  });
  afterAll(async () => {
    await node?.close();
    await home?.dispose();
  });

  const metric = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
    for (const line of text.split('\n')) {
      const m = /^([a-z_:][a-z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
    }
    return undefined;
  };

  test('pools, Redis connections, the send queue, HTTP route latency and the event loop are exported', async () => {
    const user = await registerUser(node);
    await createRoom(node, user);
    const unknownRoom = randomUUID();
    expect((await http(node.url, 'GET', `/api/rooms/${unknownRoom}/members`, { token: user.accessToken })).status).toBeGreaterThanOrEqual(400);
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(metric(text, 'chat_db_pool_connections', { pool: 'primary', state: 'max' })).toBe(10);
    expect(metric(text, 'chat_db_pool_connections', { pool: 'primary', state: 'in_use' })).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'chat_db_pool_connections', { pool: 'primary', state: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'chat_db_pool_connections', { pool: 'replica-0', state: 'max' })).toBe(10);
    expect(metric(text, 'chat_db_pool_waiting', { pool: 'primary' })).toBe(0);
    for (const connection of ['commands', 'adapter-pub', 'adapter-sub']) expect([connection, metric(text, 'chat_redis_up', { connection })]).toEqual([connection, 1]);
    expect(metric(text, 'chat_send_queue_depth')).toBe(0);
    expect(metric(text, 'chat_send_queue_limit')).toBe(777);
    // By route pattern (never the raw URL: one series per route, not per room id) and status class.
    expect(metric(text, 'chat_http_request_seconds_count', { method: 'POST', route: '/api/auth/register', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'chat_http_request_seconds_count', { method: 'GET', route: '/api/rooms/:roomId/members', status: '4xx' })).toBe(1);
    expect(text).not.toContain(unknownRoom);
    expect(metric(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
  });
});
