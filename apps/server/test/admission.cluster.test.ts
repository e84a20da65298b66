import { randomBytes } from 'node:crypto';
import { testServices } from '@chat/testkit';
import { Redis } from 'ioredis';
import { attempt, closeAll, freshLoopbackAddress, type Attempt } from './support/admission-client';
import { createDataHome, registerUser, startNode, type DataHome, type TestNode, type TestUser } from './support/harness';

// Budgets across nodes through one Redis: an address's budget is cluster-wide; a node's budget is its
// own, shared through Redis by every worker of that node (WORKERS > 1: processes with the same NODE_ID) and
// by nobody else, and counted in memory by a node of one process.

describe('handshake admission across nodes (Redis)', () => {
  let home: DataHome;
  let user: TestUser;
  let a: TestNode;
  let aWorker: TestNode;
  let b: TestNode;
  const sockets: Attempt[] = [];
  const nodeA = `node-a-${randomBytes(3).toString('hex')}`;
  const nodeB = `node-b-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    home = await createDataHome('postgres');
    // 30 s windows: 4 handshakes per node, 3 per address.
    const env = {
      REDIS_URL: testServices().redisUrl,
      ADMISSION_WINDOW_SECONDS: '30',
      ADMISSION_NODE_PER_SECOND: String(4 / 30),
      ADMISSION_IP_PER_SECOND: String(3 / 30),
    };
    // Node a's two workers, as main.ts starts them (WORKERS=2: host id NODE_ID, worker ids NODE_ID-w<i>).
    const worker = (i: number) => startNode(home, { ...env, NODE_ID: nodeA, WORKERS: '2' }, (c) => ({ ...c, nodeId: `${nodeA}-w${i}` }));
    [a, aWorker, b] = await Promise.all([worker(0), worker(1), startNode(home, { ...env, NODE_ID: nodeB })]);
    user = await registerUser(a);
  });

  afterAll(async () => {
    closeAll(sockets);
    await Promise.all([a, aWorker, b].map((n) => n?.close()));
    await home.dispose();
  });

  test('an address budget counts on every node; a node budget is per node and shared by its workers', async () => {
    const x = freshLoopbackAddress();
    const go = async (node: TestNode, from: string) => {
      const t = await attempt(node, user.accessToken, from);
      sockets.push(t);
      return t.ok ? 'ok' : t.error?.message;
    };

    // Address x: two on node a, one on node b, then its 3 are used up wherever it goes.
    expect([await go(a, x), await go(a, x), await go(b, x)]).toEqual(['ok', 'ok', 'ok']);
    expect(await go(b, x)).toBe('too many new connections from this address');
    expect(await go(aWorker, x)).toBe('too many new connections from this address');

    // Node a has admitted 2 of its 4; its second worker takes the other 2 and then refuses for the node.
    expect([await go(aWorker, freshLoopbackAddress()), await go(aWorker, freshLoopbackAddress())]).toEqual(['ok', 'ok']);
    expect(await go(a, freshLoopbackAddress())).toBe('too many new connections to this node');
    expect(await go(aWorker, freshLoopbackAddress())).toBe('too many new connections to this node');

    // Node b has admitted 1 of its 4: its own budget is untouched by node a's.
    expect([await go(b, freshLoopbackAddress()), await go(b, freshLoopbackAddress()), await go(b, freshLoopbackAddress())]).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect(await go(b, freshLoopbackAddress())).toBe('too many new connections to this node');

    // Only the node of two workers keeps its budget in Redis; node b (one process) never wrote one there.
    const redis = new Redis(testServices().redisUrl);
    try {
      const keys = await redis.keys('rl:admission:node:*');
      expect(keys.some((k) => k.endsWith(nodeA))).toBe(true);
      expect(keys.some((k) => k.endsWith(nodeB))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
