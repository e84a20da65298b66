import { randomBytes } from 'node:crypto';
import { testServices, waitUntil } from '@chat/testkit';
import { Redis } from 'ioredis';
import { MemoryPresenceStore, type PresenceStore } from '../../src/infra/presence-store';
import { RedisPresenceStore } from '../../src/infra/redis-presence-store';

const redis = new Redis(testServices().redisUrl);
afterAll(() => redis.disconnect());

/** Each store gets a prefix of its own: test files share one Redis. */
const freshPrefix = () => `presence-test-${randomBytes(4).toString('hex')}:`;

async function redisStore(nodeId: string, prefix: string, heartbeatMs = 10_000): Promise<RedisPresenceStore> {
  const store = new RedisPresenceStore(redis, { nodeId, heartbeatMs, prefix });
  await store.heartbeat();
  return store;
}

let prefix = freshPrefix();
beforeEach(() => {
  prefix = freshPrefix();
});

const implementations: [string, () => PresenceStore | Promise<PresenceStore>][] = [
  ['memory', () => new MemoryPresenceStore()],
  ['redis', () => redisStore('node-a', prefix)],
];

describe.each(implementations)('PresenceStore contract: %s', (_name, make) => {
  let store: PresenceStore;
  beforeEach(async () => {
    store = await make();
  });
  afterEach(() => store.close());

  test('online from the first socket, offline after the last one, with lastSeen', async () => {
    expect(await store.add('u1', 's1')).toBe(true);
    expect(await store.add('u1', 's2')).toBe(false);
    expect((await store.get(['u1'])).get('u1')).toEqual({ online: true });
    expect((await store.remove('u1', 's1')).wentOffline).toBe(false);
    const last = await store.remove('u1', 's2');
    expect(last.wentOffline).toBe(true);
    const state = (await store.get(['u1'])).get('u1')!;
    expect(state.online).toBe(false);
    expect(state.lastSeen?.getTime()).toBe(last.lastSeen.getTime());
  });

  test('removing an unknown socket changes nothing', async () => {
    await store.add('u1', 's1');
    expect((await store.remove('u1', 'nope')).wentOffline).toBe(false);
    expect((await store.remove('u2', 'nope')).wentOffline).toBe(false);
    expect((await store.get(['u1'])).get('u1')).toEqual({ online: true });
  });

  test('unknown users are offline without lastSeen', async () => {
    expect((await store.get(['ghost'])).get('ghost')).toEqual({ online: false });
  });

  test('counts the sockets of a user', async () => {
    expect(await store.socketCount('u1')).toBe(0);
    await store.add('u1', 's1');
    await store.add('u1', 's2');
    await store.add('u2', 's3');
    expect(await store.socketCount('u1')).toBe(2);
    await store.remove('u1', 's1');
    expect(await store.socketCount('u1')).toBe(1);
    expect(await store.socketCount('u2')).toBe(1);
  });
});

describe('RedisPresenceStore across nodes', () => {
  test('online while any node holds a socket; a clean shutdown takes the node\'s users offline', async () => {
    const a = await redisStore('node-a', prefix);
    const b = await redisStore('node-b', prefix);
    expect(await a.add('u1', 's1')).toBe(true);
    expect(await b.add('u1', 's2')).toBe(false);
    expect((await b.get(['u1'])).get('u1')).toEqual({ online: true });
    // The cap on sockets per user counts them across nodes.
    expect(await a.socketCount('u1')).toBe(2);
    expect((await a.remove('u1', 's1')).wentOffline).toBe(false);
    expect((await a.get(['u1'])).get('u1')).toEqual({ online: true });
    await b.add('u2', 's3');
    await b.close();
    const states = await a.get(['u1', 'u2']);
    expect(states.get('u1')?.online).toBe(false);
    expect(states.get('u2')?.online).toBe(false);
    expect(states.get('u2')?.lastSeen).toBeInstanceOf(Date);
    await a.close();
  });

  test('a node that dies silently: its users go offline when its heartbeat expires, and a sweep leaves nothing behind', async () => {
    const survivor = await redisStore('node-a', prefix, 100);
    const doomed = new RedisPresenceStore(redis, { nodeId: 'node-dead', heartbeatMs: 100, prefix });
    await doomed.heartbeat();
    await doomed.add('u1', 's1');
    await doomed.add('u2', 's2');
    await survivor.add('u2', 's3');
    expect((await survivor.get(['u1'])).get('u1')?.online).toBe(true);
    // Death: the heartbeat stops and nothing is removed (SIGKILL).
    (doomed as unknown as { timer: NodeJS.Timeout }).timer.close();
    await waitUntil(async () => (await survivor.get(['u1'])).get('u1')?.online === false, { description: 'u1 to go offline', timeoutMs: 5_000 });
    expect((await survivor.get(['u2'])).get('u2')?.online).toBe(true);
    expect(await survivor.sweep()).toEqual(['u1']);
    expect(await survivor.sweep()).toEqual([]);
    expect((await survivor.get(['u1'])).get('u1')?.lastSeen).toBeInstanceOf(Date);
    const left = await redis.keys(`${prefix}*`);
    expect(left.filter((k) => k.includes('node-dead'))).toEqual([]);
    expect(await redis.hkeys(`${prefix}user:u1`)).toEqual([]);
    expect(await redis.hkeys(`${prefix}user:u2`)).toEqual([expect.stringMatching(/^node-a~[^|]+\|s3$/)]);
    await survivor.close();
  });

  test('a node killed and started again under the same id: sockets of its previous life neither count nor keep users online', async () => {
    const before = new RedisPresenceStore(redis, { nodeId: 'node-r', heartbeatMs: 100, prefix });
    await before.heartbeat();
    await before.add('u1', 's1');
    await before.add('u2', 's2');
    (before as unknown as { timer: NodeJS.Timeout }).timer.close(); // SIGKILL: nothing removed
    const after = await redisStore('node-r', prefix, 100);
    // u2 comes back within the previous life's expiry: no flicker (still online), then only the new socket.
    expect(await after.add('u2', 's3')).toBe(false);
    await waitUntil(async () => (await after.get(['u1'])).get('u1')?.online === false, { description: 'u1, who did not come back, to go offline', timeoutMs: 5_000 });
    expect(await after.sweep()).toEqual(['u1']);
    expect((await after.get(['u2'])).get('u2')).toEqual({ online: true });
    expect(await after.socketCount('u2')).toBe(1);
    expect(await redis.hlen(`${prefix}user:u2`)).toBe(1);
    await after.close();
  });

  test('after Redis forgets its scripts (a restart), calls still run: the script is sent again', async () => {
    const a = await redisStore('node-a', prefix);
    await a.add('u1', 's1');
    // Every client's cached scripts go; ioredis answers NOSCRIPT by sending the script itself.
    await redis.call('SCRIPT', 'FLUSH');
    expect(await a.socketCount('u1')).toBe(1);
    expect(await a.add('u1', 's2')).toBe(false);
    expect(await a.socketCount('u1')).toBe(2);
    await a.close();
  });

  test('after Redis loses its data, the next heartbeat writes the node\'s sockets back', async () => {
    const a = await redisStore('node-a', prefix);
    await a.add('u1', 's1');
    const keys = await redis.keys(`${prefix}*`);
    await redis.del(...keys);
    expect((await a.get(['u1'])).get('u1')?.online).toBe(false);
    await a.heartbeat();
    expect((await a.get(['u1'])).get('u1')).toEqual({ online: true });
    await a.close();
  });
});
