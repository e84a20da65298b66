import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describeClusterLogs, startCluster, type Cluster } from '@chat/testkit';
import { expectedNodeBacklog, listenBacklog } from './support/listen-backlog';

// Budgets by client address through the real NGINX in front of two node processes (issue 9, "must show"):
// clients on two source addresses get separate budgets, cluster-wide (Redis), and an X-Forwarded-For
// written by a client changes nothing (NGINX trusts no hop here and tells the nodes the connection's address).

let cluster: Cluster;

beforeAll(async () => {
  // 0.05 × 120 = 6 sign-ups per address per minute.
  cluster = await startCluster({ nodes: 2, env: { HTTP_BUDGET_MULTIPLIER: '0.05', LOG_LEVEL: 'warn' } });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

interface Answer {
  status: number;
  body: { user?: unknown; error?: { code: string; message: string; retryAfterMs?: number } };
}

function register(source: string, headers: Record<string, string> = {}): Promise<Answer> {
  const body = JSON.stringify({ username: `b_${randomBytes(5).toString('hex')}`, password: 'long enough password' });
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.entryUrl}/api/auth/register`,
      { method: 'POST', localAddress: source, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Answer['body'] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('two source addresses, two budgets; a forged X-Forwarded-For is not believed', async () => {
  try {
    const [a, b] = ['127.0.41.1', '127.0.42.1'];
    const fromA: number[] = [];
    for (let i = 0; i < 6; i++) fromA.push((await register(a)).status);
    expect(fromA).toEqual([201, 201, 201, 201, 201, 201]);
    const refused = await register(a);
    expect(refused.status).toBe(429);
    // The node's budget (a one-minute window), not NGINX's wall (which answers retryAfterMs 1000).
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', message: 'too many requests from this address' });
    expect(refused.body.error!.retryAfterMs).toBeGreaterThan(1000);

    // Another address has its own budget, whichever node ip_hash sends it to.
    expect((await register(b)).status).toBe(201);
    // A client naming another address is still itself: A stays refused, B is not charged for it.
    expect((await register(a, { 'X-Forwarded-For': '203.0.113.9' })).status).toBe(429);
    expect((await register(a, { 'X-Forwarded-For': b })).status).toBe(429);
    const fromB: number[] = [];
    for (let i = 0; i < 5; i++) fromB.push((await register(b, { 'X-Forwarded-For': a })).status);
    expect(fromB).toEqual([201, 201, 201, 201, 201]);
    expect((await register(b)).status).toBe(429);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${describeClusterLogs(cluster)}`);
  }
}, 60_000);

test('nodes listen with a backlog that holds a reconnecting herd (LISTEN_BACKLOG), not Node\'s 511', () => {
  for (const node of cluster.nodes) expect(listenBacklog(node.port)).toBe(expectedNodeBacklog());
});
