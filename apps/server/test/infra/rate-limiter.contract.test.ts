import { randomBytes } from 'node:crypto';
import { testServices } from '@chat/testkit';
import { Redis } from 'ioredis';
import { memoryRateLimiters, redisRateLimiters, type RateLimiterFactory } from '../../src/infra/rate-limiter';

const redis = new Redis(testServices().redisUrl);
const peer = new Redis(testServices().redisUrl);

// The limiter refuses to wait for a Redis that is not ready (its in-memory insurance answers instead), so
// the clients must be connected before the contract runs against Redis itself.
beforeAll(async () => {
  await Promise.all([redis.ping(), peer.ping()]);
});

const implementations: [string, () => RateLimiterFactory][] = [
  ['memory', () => memoryRateLimiters],
  ['redis', () => redisRateLimiters(redis)],
];

afterAll(() => {
  redis.disconnect();
  peer.disconnect();
});

describe.each(implementations)('RateLimiter contract: %s', (_name, make) => {
  const prefix = () => `t${randomBytes(4).toString('hex')}`;

  test('allows the budget, then refuses with retryAfterMs within the window', async () => {
    const limiter = make()({ keyPrefix: prefix(), points: 3, durationSec: 10 });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consume('k'));
    expect(decisions.slice(0, 3).map((d) => d.allowed)).toEqual([true, true, true]);
    const refused = decisions[3]!;
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) {
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(10_000);
    }
  });

  test('keys are independent', async () => {
    const limiter = make()({ keyPrefix: prefix(), points: 1, durationSec: 10 });
    expect((await limiter.consume('a')).allowed).toBe(true);
    expect((await limiter.consume('a')).allowed).toBe(false);
    expect((await limiter.consume('b')).allowed).toBe(true);
  });

  test('refused attempts do not consume budget; refunds give it back', async () => {
    const limiter = make()({ keyPrefix: prefix(), points: 2, durationSec: 10 });
    await limiter.consume('k');
    await limiter.consume('k');
    for (let i = 0; i < 5; i++) expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.refund('k');
    expect(await limiter.consume('k')).toMatchObject({ allowed: true });
    expect((await limiter.consume('k')).allowed).toBe(false);
  });

  test('the budget refills after the window', async () => {
    const limiter = make()({ keyPrefix: prefix(), points: 1, durationSec: 1 });
    expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused.allowed).toBe(false);
    // Wait exactly as long as the limiter says, then the budget is back.
    if (!refused.allowed) await new Promise((r) => setTimeout(r, refused.retryAfterMs + 50));
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  test('limiters built from one factory share the budget of a key (as nodes do through Redis)', async () => {
    const p = prefix();
    if (_name === 'memory') {
      // In-memory budgets are per limiter instance: one process, one node.
      const a = make()({ keyPrefix: p, points: 1, durationSec: 10 });
      expect((await a.consume('k')).allowed).toBe(true);
      expect((await a.consume('k')).allowed).toBe(false);
      return;
    }
    const a = make()({ keyPrefix: p, points: 2, durationSec: 10 });
    const b = redisRateLimiters(peer)({ keyPrefix: p, points: 2, durationSec: 10 });
    expect((await a.consume('k')).allowed).toBe(true);
    expect((await b.consume('k')).allowed).toBe(true);
    expect((await a.consume('k')).allowed).toBe(false);
    expect((await b.consume('k')).allowed).toBe(false);
    // The budget lives in Redis, not in either process.
    expect(await redis.exists(`rl:${p}:k`)).toBe(1);
  });
});

describe('RateLimiter in Redis: what a refusal costs', () => {
  test('a refused attempt is one command and writes nothing', async () => {
    const client = new Redis(testServices().redisUrl);
    await client.ping();
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command, stream) => {
      sent.push(command.name);
      return send(command, stream);
    }) as typeof client.sendCommand;
    try {
      const p = `t${randomBytes(4).toString('hex')}`;
      const limiter = redisRateLimiters(client)({ keyPrefix: p, points: 1, durationSec: 10 });
      expect((await limiter.consume('k')).allowed).toBe(true);
      sent.length = 0;
      for (let i = 0; i < 3; i++) expect((await limiter.consume('k')).allowed).toBe(false);
      // Before, each refusal added its point (EVALSHA) and took it back (a second EVALSHA).
      expect(sent).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect(await redis.get(`rl:${p}:k`)).toBe('1');
      await limiter.refund('k');
      expect(await redis.get(`rl:${p}:k`)).toBe('0');
    } finally {
      client.disconnect();
    }
  });

  test('while Redis is not reachable, the in-memory insurance answers, and its refusals leave no trace either', async () => {
    // A client that never connects (nothing listens on port 1): every call goes to the insurance limiter.
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const limiter = redisRateLimiters(down)({ keyPrefix: `t${randomBytes(4).toString('hex')}`, points: 1, durationSec: 10 });
      expect((await limiter.consume('k')).allowed).toBe(true);
      for (let i = 0; i < 3; i++) expect((await limiter.consume('k')).allowed).toBe(false);
      await limiter.refund('k');
      expect((await limiter.consume('k')).allowed).toBe(true);
      expect((await limiter.consume('k')).allowed).toBe(false);
    } finally {
      down.disconnect();
    }
  });
});

describe('RateLimiter scope', () => {
  test("scope 'node' counts in this process's memory even with Redis: another node has a budget of its own", async () => {
    const p = `t${randomBytes(4).toString('hex')}`;
    const here = redisRateLimiters(redis)({ keyPrefix: p, points: 1, durationSec: 10, scope: 'node' });
    const there = redisRateLimiters(peer)({ keyPrefix: p, points: 1, durationSec: 10, scope: 'node' });
    expect((await here.consume('k')).allowed).toBe(true);
    expect((await here.consume('k')).allowed).toBe(false);
    expect((await there.consume('k')).allowed).toBe(true);
    expect(await redis.exists(`rl:${p}:k`)).toBe(0);
  });
});
