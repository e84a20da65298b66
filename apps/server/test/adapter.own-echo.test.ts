import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRedis, testServices, waitUntil, type RedisServer } from '@chat/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { attachRedisAdapter } from '../src/socket/adapter';

/**
 * Two Socket.IO servers joined by our sharded Redis adapter (a real Redis): a node's own broadcasts, which Redis
 * hands back to it because it is subscribed to the room too, are dropped before they are decoded, while
 * everything another node publishes (text and binary) still arrives and is handled; a node's own sockets
 * get its broadcasts without waiting for Redis to take the publication; and only chat rooms get channels of
 * their own (a user's and a session's broadcasts ride the namespace's channel).
 */
interface TestNode {
  io: Server;
  client: ClientSocket;
  /** What the adapter's decoded-message handler was given: the publisher's uid of each message. */
  handled: string[];
  uid: string;
  received: unknown[];
  detach: () => Promise<void>;
}

const ROOM = 'room:echo';
const log = pino({ level: 'silent' });

async function startNode(prefix: string, redisUrl = testServices().redisUrl, alsoJoins: readonly string[] = []): Promise<TestNode> {
  const http = createServer();
  const io = new Server(http);
  const redis = new Redis(redisUrl);
  const adapterConnections = attachRedisAdapter(io as never, redis, 'sharded', log, () => undefined, prefix);
  const detach = async () => {
    await adapterConnections.detach();
    redis.disconnect();
  };
  io.on('connection', (socket) => void socket.join([ROOM, ...alsoJoins]));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const adapter = io.of('/').adapter as unknown as { uid: string; onMessage(message: { uid: string }, offset?: string): unknown };
  const handled: string[] = [];
  const onMessage = adapter.onMessage.bind(adapter);
  adapter.onMessage = (message, offset) => {
    handled.push(message.uid);
    return onMessage(message, offset);
  };
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true });
  const received: unknown[] = [];
  client.on('probe', (value: unknown) => received.push(value));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connect_error', reject);
  });
  return { io, client, handled, uid: adapter.uid, received, detach };
}

/** Room subscriptions are made asynchronously: until one broadcast from each side reaches the other node's client. */
async function untilBothSubscribed(a: TestNode, b: TestNode): Promise<void> {
  let round = 0;
  await waitUntil(
    async () => {
      round++;
      a.io.to(ROOM).emit('probe', `a-ready-${round}`);
      b.io.to(ROOM).emit('probe', `b-ready-${round}`);
      return b.received.some((v) => String(v).startsWith('a-ready')) && a.received.some((v) => String(v).startsWith('b-ready'));
    },
    { description: 'both nodes subscribed to the room', timeoutMs: 10_000, intervalMs: 50 },
  );
}

async function stopNodes(nodes: (TestNode | undefined)[]): Promise<void> {
  for (const n of nodes) {
    n?.client.close();
    await n?.io.close();
    await n?.detach();
  }
}

describe('sharded Redis adapter: a node does not decode its own broadcasts', () => {
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    const prefix = `echo-test-${randomBytes(4).toString('hex')}`;
    a = await startNode(prefix);
    b = await startNode(prefix);
    await untilBothSubscribed(a, b);
  });

  afterAll(() => stopNodes([a, b]));

  it('drops its own text broadcasts undecoded and still delivers them locally and to the other node', async () => {
    // Probes of the set-up may still be in flight: only this test's broadcasts are looked at.
    const ours = (n: TestNode) => n.received.filter((v) => typeof v === 'string' && /^(a-\d|b-after)$/.test(v));
    a.handled.length = 0;
    b.handled.length = 0;
    for (let i = 0; i < 5; i++) a.io.to(ROOM).emit('probe', `a-${i}`);
    await waitUntil(async () => ours(a).length === 5 && ours(b).length === 5, { description: "A's five broadcasts on both clients", timeoutMs: 10_000, intervalMs: 10 });
    // A broadcast from B after them: Redis hands A its own echoes before this one, on the same connection.
    b.io.to(ROOM).emit('probe', 'b-after');
    await waitUntil(async () => ours(a).includes('b-after'), { description: "B's broadcast at A's client", timeoutMs: 10_000, intervalMs: 10 });
    expect(ours(a)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-after']);
    expect(ours(b)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-after']);
    expect(a.handled.filter((uid) => uid === a.uid)).toEqual([]);
    expect(a.handled.filter((uid) => uid === b.uid).length).toBeGreaterThanOrEqual(1);
    expect(b.handled.filter((uid) => uid === a.uid).length).toBeGreaterThanOrEqual(5);
  });

  it('still delivers binary broadcasts (encoded otherwise, so decoded as before)', async () => {
    const binary = (n: TestNode) => n.received.filter((v) => typeof v !== 'string');
    a.io.to(ROOM).emit('probe', Buffer.from([1, 2, 3]));
    await waitUntil(async () => binary(b).length === 1, { description: "A's binary broadcast at B's client", timeoutMs: 10_000, intervalMs: 10 });
    expect(Buffer.from(binary(b)[0] as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
  });
});

describe("sharded Redis adapter: a node's own sockets first", () => {
  // A Redis of its own: this test holds its writes (CLIENT PAUSE), which would stall every other suite's.
  let redis: RedisServer;
  let pauser: Redis;
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    redis = await startRedis();
    pauser = new Redis(redis.url);
    a = await startNode('local-first', redis.url);
    b = await startNode('local-first', redis.url);
    await untilBothSubscribed(a, b);
  });

  afterAll(async () => {
    await pauser?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    pauser?.disconnect();
    await stopNodes([a, b]);
    await redis?.stop();
  });

  it('writes its own sockets while Redis has not taken the publication yet, and the other node gets it after', async () => {
    // Redis holds every write command, SPUBLISH included, until unpaused: A's publication waits in Redis.
    await pauser.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    a.io.to(ROOM).emit('probe', 'while-paused-1');
    a.io.to(ROOM).emit('probe', 'while-paused-2');
    // Before, A's own client got nothing until Redis answered the publication (this wait then timed out).
    await waitUntil(async () => a.received.includes('while-paused-2'), { description: "A's broadcasts at A's own client, Redis paused", timeoutMs: 5_000, intervalMs: 10 });
    expect(a.received.filter((v) => String(v).startsWith('while-paused'))).toEqual(['while-paused-1', 'while-paused-2']);
    expect(b.received.filter((v) => String(v).startsWith('while-paused'))).toEqual([]);
    await pauser.call('CLIENT', 'UNPAUSE');
    await waitUntil(async () => b.received.includes('while-paused-2'), { description: "A's broadcasts at B's client after the pause", timeoutMs: 10_000, intervalMs: 10 });
    expect(b.received.filter((v) => String(v).startsWith('while-paused'))).toEqual(['while-paused-1', 'while-paused-2']);
    // Nothing twice at A: its own echo is dropped as before.
    b.io.to(ROOM).emit('probe', 'b-last');
    await waitUntil(async () => a.received.includes('b-last'), { description: "B's broadcast at A's client", timeoutMs: 10_000, intervalMs: 10 });
    expect(a.received.filter((v) => String(v).startsWith('while-paused'))).toEqual(['while-paused-1', 'while-paused-2']);
  });
});

describe('sharded Redis adapter: channels of their own for chat rooms only', () => {
  const prefix = `channels-test-${randomBytes(4).toString('hex')}`;
  const [user, session] = ['user:u-1', 'session:s-1'];
  let redis: Redis;
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    redis = new Redis(testServices().redisUrl);
    a = await startNode(prefix);
    b = await startNode(prefix, testServices().redisUrl, [user, session]);
    await untilBothSubscribed(a, b);
  });

  afterAll(async () => {
    await stopNodes([a, b]);
    redis?.disconnect();
  });

  it("subscribes to a chat room's channel, not to a user's or a session's", async () => {
    const channels = ((await redis.call('PUBSUB', 'SHARDCHANNELS', `${prefix}#*`)) as string[]).sort();
    // The namespace's channel, each node's response channel, and the room's.
    expect(channels).toContain(`${prefix}#/#${ROOM}#`);
    expect(channels.filter((c) => c.includes('user:') || c.includes('session:'))).toEqual([]);
    expect(channels).toHaveLength(4);
  });

  it("still delivers a broadcast to a user's channel from another node, once", async () => {
    a.io.to(user).emit('probe', 'to-the-user');
    a.io.to(session).emit('probe', 'to-the-session');
    await waitUntil(async () => b.received.includes('to-the-session'), { description: "A's broadcasts at B's client", timeoutMs: 10_000, intervalMs: 10 });
    // Published after the user's: on the same channel and connection, so it arrived after it.
    expect(b.received.filter((v) => String(v).startsWith('to-the-'))).toEqual(['to-the-user', 'to-the-session']);
    expect(a.received.filter((v) => String(v).startsWith('to-the-'))).toEqual([]);
  });
});
