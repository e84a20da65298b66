import { randomBytes } from 'node:crypto';
import { testServices, waitUntil } from '@chat/testkit';
import { Redis } from 'ioredis';
import { LocalNodeRelay, RelayTimeout, type NodeRelay } from '../../src/infra/relay/node-relay';
import { NODE_REDIS_OPTIONS } from '../../src/infra/redis-connection';
import { RedisNodeRelay } from '../../src/infra/relay/redis-node-relay';

const redis = new Redis(testServices().redisUrl);
afterAll(() => redis.disconnect());

/** Each test gets a key prefix of its own: test files share one Redis. */
const freshPrefix = () => `relay-test-${randomBytes(4).toString('hex')}:`;

const opened: NodeRelay[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
});

async function redisRelay(nodeId: string, prefix: string, leaseMs = 3000, client: Redis = redis): Promise<NodeRelay> {
  const relay = await RedisNodeRelay.open(client, { nodeId, leaseMs, keyPrefix: prefix });
  opened.push(relay);
  return relay;
}

/** Polls a condition every 20 ms (the lease rounds are what is awaited: no event marks them). */
const until = (what: string, probe: () => boolean) => waitUntil(async () => probe() || undefined, { description: what, timeoutMs: 5000, intervalMs: 20 });

function localRelay(nodeId: string): NodeRelay {
  const relay = new LocalNodeRelay(nodeId);
  opened.push(relay);
  return relay;
}

// What every implementation must do with the node it is (a cluster of one for the local relay).
const implementations: [string, (nodeId: string) => NodeRelay | Promise<NodeRelay>][] = [
  ['local', (nodeId) => localRelay(nodeId)],
  ['redis', (nodeId) => redisRelay(nodeId, freshPrefix())],
];

describe.each(implementations)('NodeRelay contract: %s', (_name, make) => {
  test('a lone node is the writer', async () => {
    const relay = await make('node-a');
    expect(relay.nodeId).toBe('node-a');
    expect(relay.writer()).toBe('node-a');
  });

  test("a request gets the handler's answer, as a copy through JSON", async () => {
    const relay = await make('node-a');
    const seen: unknown[] = [];
    relay.serve(async (payload) => {
      seen.push(payload);
      return { echoed: payload, when: new Date(0) };
    });
    const answer = await relay.request('node-a', { n: 1, list: ['x'] }, 2000);
    expect(answer).toEqual({ echoed: { n: 1, list: ['x'] }, when: '1970-01-01T00:00:00.000Z' });
    expect(seen).toEqual([{ n: 1, list: ['x'] }]);
  });

  test('a handler that throws is answered relayError, not left to time out', async () => {
    const relay = await make('node-a');
    relay.serve(async () => {
      throw new Error('boom');
    });
    expect(await relay.request('node-a', {}, 2000)).toEqual({ relayError: expect.stringContaining('boom') as unknown });
  });

  test('a node nobody serves times out with RelayTimeout', async () => {
    const relay = await make('node-a');
    await expect(relay.request('node-gone', {}, 200)).rejects.toBeInstanceOf(RelayTimeout);
  });

  test('after close, requests reject and nothing is served', async () => {
    const relay = await make('node-a');
    relay.serve(async () => 'yes');
    await relay.close();
    await expect(relay.request('node-a', {}, 200)).rejects.toBeInstanceOf(RelayTimeout);
  });
});

describe('RedisNodeRelay across nodes', () => {
  test('a relay over a connection opened as a node opens it reports no error (no CLIENT SETINFO refused by Redis 7.0)', async () => {
    const client = new Redis(testServices().redisUrl, NODE_REDIS_OPTIONS);
    const errors: string[] = [];
    try {
      const relay = await RedisNodeRelay.open(client, { nodeId: 'node-a', leaseMs: 3000, keyPrefix: freshPrefix(), onError: (err) => errors.push(String(err)) });
      opened.push(relay);
      // A round trip on each of its connections: every reply to the connections' set-up has arrived.
      relay.serve(async () => 'pong');
      expect(await relay.request('node-a', {}, 2000)).toBe('pong');
      await client.ping();
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(opened.splice(0).map((r) => r.close()));
      client.disconnect();
    }
  });

  test('every node names the same writer; requests reach the node asked and answers the asker only', async () => {
    const prefix = freshPrefix();
    const a = await redisRelay('node-a', prefix);
    const b = await redisRelay('node-b', prefix);
    const c = await redisRelay('node-c', prefix);
    expect([a.writer(), b.writer(), c.writer()]).toEqual(['node-a', 'node-a', 'node-a']);
    const servedBy: string[] = [];
    for (const r of [a, b, c]) {
      r.serve(async (payload) => {
        servedBy.push(r.nodeId);
        return { by: r.nodeId, payload };
      });
    }
    const [fromB, fromC] = await Promise.all([b.request('node-a', { from: 'b' }, 2000), c.request('node-a', { from: 'c' }, 2000)]);
    expect(fromB).toEqual({ by: 'node-a', payload: { from: 'b' } });
    expect(fromC).toEqual({ by: 'node-a', payload: { from: 'c' } });
    expect(servedBy).toEqual(['node-a', 'node-a']);
  });

  test('a node that commits its own sends (compete: false) never takes the role, only reads it', async () => {
    const prefix = freshPrefix();
    const local = await RedisNodeRelay.open(redis, { nodeId: 'node-local', leaseMs: 3000, keyPrefix: prefix, compete: false });
    opened.push(local);
    expect(await redis.get(`${prefix}writer`)).toBeNull();
    const relaying = await redisRelay('node-relay', prefix);
    expect(relaying.writer()).toBe('node-relay');
    await until('the local node reads the holder', () => local.writer() === 'node-relay');
  });

  test('a writer that closes hands the role on; one that dies is replaced when its lease runs out', async () => {
    const prefix = freshPrefix();
    const leaseMs = 300;
    const own = [new Redis(testServices().redisUrl), new Redis(testServices().redisUrl)] as const;
    try {
      const a = await redisRelay('node-a', prefix, leaseMs);
      const b = await redisRelay('node-b', prefix, leaseMs, own[0]);
      const c = await redisRelay('node-c', prefix, leaseMs, own[1]);
      expect(b.writer()).toBe('node-a');
      await a.close(); // a clean shutdown gives the lease up at once
      await until('b and c agree on a new writer', () => b.writer() !== 'node-a' && b.writer() === c.writer());
      const second = b.writer();
      expect(['node-b', 'node-c']).toContain(second);
      // The new writer loses Redis without a word (as under SIGKILL): it stops renewing, releases nothing,
      // and its key expires after leaseMs.
      const [dead, survivor, deadClient] = second === 'node-b' ? [b, c, own[0]] : [c, b, own[1]];
      (dead as unknown as { sub: Redis }).sub.disconnect();
      deadClient.disconnect();
      await until('the survivor takes the role', () => survivor.writer() === survivor.nodeId);
      await expect(survivor.request(dead.nodeId, {}, 200)).rejects.toBeInstanceOf(RelayTimeout);
    } finally {
      for (const client of own) client.disconnect();
    }
  });
});
