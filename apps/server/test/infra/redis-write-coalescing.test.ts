import { Redis } from 'ioredis';
import { testServices } from '@chat/testkit';
import { writeEachTurnAtOnce } from '../../src/infra/redis-connection';

// The node's Redis connections write the commands of one turn of the event loop in one socket write, without
// ioredis's auto-pipelining (docs/performance.md, "Redis commands outlived the young generation"). Counted at
// the connection's socket: each `_write` or `_writev` call is one write to the kernel.

const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
});

async function connected(coalesce: boolean, options: { lazyConnect?: boolean } = {}): Promise<{ client: Redis; writes: () => number }> {
  const client = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: false, ...options });
  clients.push(client);
  if (coalesce) writeEachTurnAtOnce(client);
  let count = 0;
  const counted = () => {
    const socket = client.stream as unknown as { _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown };
    const write = socket._write.bind(socket);
    const writev = socket._writev.bind(socket);
    socket._write = (...a) => (count++, write(...a));
    socket._writev = (...a) => (count++, writev(...a));
  };
  if (!options.lazyConnect) {
    await client.ping();
    counted();
  } else {
    client.once('ready', counted);
  }
  return { client, writes: () => count };
}

const key = (name: string) => `redis-write-coalescing:${process.pid}:${name}`;

test('the commands of one turn leave in one socket write, each answered in order', async () => {
  const { client, writes } = await connected(true);
  const replies = Array.from({ length: 50 }, (_, i) => client.set(key(`k${i}`), String(i)).then(() => client.get(key(`k${i}`))));
  // The 50 SETs of this turn, then the 50 GETs each issued as its SET is answered (later turns).
  const values = await Promise.all(replies);
  expect(values).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  // One write for the SETs; the GETs follow their answers, which arrive in one or a few reads.
  expect(writes()).toBeLessThan(10);
  const before = writes();
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.incr(key(`n${i}`))));
  expect(writes() - before).toBe(1);
});

test('without it, the same turn is one write per command', async () => {
  const { client, writes } = await connected(false);
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.incr(key(`bare${i}`))));
  expect(writes()).toBe(20);
});

test('a turn does not wait for the replies of the turn before it', async () => {
  const { client, writes } = await connected(true);
  const blocked = key('blocked');
  // Redis answers in order, so everything after a BLPOP waits for its element; ioredis's auto-pipelining held
  // the next turn's commands back until then (one pipeline in flight), this writes them at once.
  const pop = client.blpop(blocked, 5);
  await new Promise((resolve) => setImmediate(resolve));
  expect(writes()).toBe(1);
  const ping = client.ping();
  await new Promise((resolve) => setImmediate(resolve));
  expect(writes()).toBe(2);
  const pusher = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 2 });
  clients.push(pusher);
  await pusher.rpush(blocked, 'x');
  expect(await pop).toEqual([blocked, 'x']);
  expect(await ping).toBe('PONG');
});

test('commands sent before the connection is ready are queued and answered once it is', async () => {
  const { client } = await connected(true, { lazyConnect: true });
  // The first command starts the connection; both wait in ioredis's offline queue until it is ready.
  const answers = Promise.all([client.set(key('early'), 'yes'), client.get(key('early'))]);
  expect(client.status).not.toBe('ready');
  expect(await answers).toEqual(['OK', 'yes']);
  expect(client.stream.writableCorked).toBe(0);
});
