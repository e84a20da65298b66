import { Redis } from 'ioredis';
import { startRedis, testServices, type RedisServer } from '../src/index';

async function withRedis<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis()', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('answers PING on its own loopback port, not the system Redis', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(await withRedis(redis.url, (client) => client.ping())).toBe('PONG');
    expect(redis.url).not.toBe(testServices().redisUrl);
  });

  it('restart() serves the same URL again, empty (no persistence)', async () => {
    await withRedis(redis.url, (client) => client.set('k', 'v'));
    const oldPid = redis.pid!;
    await redis.restart();
    expect(redis.pid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(false);
    expect(await withRedis(redis.url, (client) => client.ping())).toBe('PONG');
    expect(await withRedis(redis.url, (client) => client.get('k'))).toBeNull();
  });

  it('kill() ends the process with SIGKILL and restart() brings it back', async () => {
    const pid = redis.pid!;
    await redis.kill();
    expect(redis.pid).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
    await redis.restart();
    expect(await withRedis(redis.url, (client) => client.ping())).toBe('PONG');
  });
});

describe('the global Redis', () => {
  it('answers PING at TEST_REDIS_URL', async () => {
    expect(await withRedis(testServices().redisUrl, (client) => client.ping())).toBe('PONG');
  });
});
