import { queuedMs } from '../src/socket/handshake-queue';
import { attempt, closeAll, freshLoopbackAddress, type Attempt } from './support/admission-client';
import { createDataHome, registerUser, startNode, type DataHome, type TestNode, type TestUser } from './support/harness';

// Handshakes that waited too long in front of the node (NGINX's X-Request-Start stamp) are refused before
// the upgrade; the wait of every stamped handshake is a metric. Real Socket.IO clients on a real node; the
// stamp is what NGINX would have written (its own test is in packages/testkit/test/cluster.nginx.test.ts).

const stamp = (msAgo: number) => `t=${((Date.now() - msAgo) / 1000).toFixed(3)}`;

async function metric(node: TestNode, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('queuedMs: the X-Request-Start stamp', () => {
  const now = 1_796_412_259_544;
  test.each([
    ['t=1796412259.544', 0],
    ['t=1796412254.544', 5000],
    ['t=1796412259.5', 44],
    ['t=1796412259', 544],
    [' t=1796412258.044 ', 1500],
    [['t=1796412258.544', 't=1'], 1000],
    // Ahead of this clock (a skewed proxy host): no wait, never a negative one.
    ['t=1796412300.000', 0],
  ])('%j → %d ms', (header, expected) => {
    expect(queuedMs(header, now)).toBe(expected);
  });

  test.each([undefined, '', 't=', 'now', '1796412259.544', 't=1796412259.544x', 't=17964122590000', 't=-5'])('%j is no stamp', (header) => {
    expect(queuedMs(header, now)).toBeUndefined();
  });
});

describe('handshake queue guard on a node', () => {
  let home: DataHome;
  let user: TestUser;
  const nodes: TestNode[] = [];
  const sockets: Attempt[] = [];

  async function node(env: Record<string, string>): Promise<TestNode> {
    const n = await startNode(home, env);
    nodes.push(n);
    return n;
  }

  beforeAll(async () => {
    home = await createDataHome('pglite');
    user = await registerUser(await node({}));
  });

  afterEach(async () => {
    closeAll(sockets.splice(0));
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  afterAll(async () => {
    await home.dispose();
  });

  test('a handshake stamped longer ago than HANDSHAKE_QUEUE_MAX_MS is refused and counted; fresh and unstamped ones are served', async () => {
    const n = await node({ HANDSHAKE_QUEUE_MAX_MS: '3000' });
    const stale = await attempt(n, user.accessToken, freshLoopbackAddress(), { 'x-request-start': stamp(10_000) });
    const fresh = await attempt(n, user.accessToken, freshLoopbackAddress(), { 'x-request-start': stamp(0) });
    const unstamped = await attempt(n, user.accessToken, freshLoopbackAddress());
    sockets.push(stale, fresh, unstamped);

    // Refused at the upgrade (HTTP 400): the client sees a transport error and retries in its back-off.
    expect(stale.ok).toBe(false);
    expect(stale.ok ? '' : stale.message).toBe('websocket error');
    expect([fresh.ok, unstamped.ok]).toEqual([true, true]);

    expect(await metric(n, 'chat_connections_total', 'outcome="QUEUED_TOO_LONG"')).toBe(1);
    // Both stamped handshakes are measured (the unstamped one has no wait to measure), the stale one in
    // the 10 s bucket and not below 5 s.
    expect(await metric(n, 'chat_handshake_queue_seconds_count')).toBe(2);
    expect(await metric(n, 'chat_handshake_queue_seconds_bucket', 'le="5"')).toBe(1);
    expect(await metric(n, 'chat_handshake_queue_seconds_bucket', 'le="20"')).toBe(2);
  });

  test('HANDSHAKE_QUEUE_MAX_MS=0 measures the wait but refuses nothing', async () => {
    const n = await node({ HANDSHAKE_QUEUE_MAX_MS: '0' });
    const stale = await attempt(n, user.accessToken, freshLoopbackAddress(), { 'x-request-start': stamp(60_000) });
    sockets.push(stale);
    expect(stale.ok).toBe(true);
    expect(await metric(n, 'chat_connections_total', 'outcome="QUEUED_TOO_LONG"')).toBe(0);
    expect(await metric(n, 'chat_handshake_queue_seconds_count')).toBe(1);
  });
});
