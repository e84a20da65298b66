import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { testServices, waitUntil } from '@chat/testkit';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { AdapterClusterBus } from '../../src/infra/adapter-cluster-bus';
import type { ClusterBus, ClusterEventName, ClusterEvents } from '../../src/infra/cluster-bus';
import { MemoryClusterBus } from '../../src/infra/memory-cluster-bus';
import type { ChatServer } from '../../src/socket/types';

/** Several nodes' buses, joined the way the implementation joins nodes. */
interface Nodes {
  buses: ClusterBus[];
  close(): Promise<void>;
}

const PROBE = 'probe:';

function memoryNodes(n: number): Nodes {
  const hub = new Set<MemoryClusterBus>();
  const buses = Array.from({ length: n }, () => new MemoryClusterBus(hub));
  return { buses, close: async () => buses.forEach((b) => b.close()) };
}

/** Socket.IO servers joined by the Redis adapter (a channel prefix of their own: test files share one Redis). */
async function redisNodes(n: number, kind: 'sharded' | 'classic'): Promise<Nodes> {
  const prefix = `bus-test-${randomBytes(4).toString('hex')}`;
  const clients: Redis[] = [];
  const servers: ChatServer[] = [];
  const buses = Array.from({ length: n }, () => {
    const [pub, sub] = [new Redis(testServices().redisUrl), new Redis(testServices().redisUrl)];
    clients.push(pub, sub);
    const io: ChatServer = new Server(createServer());
    io.adapter(kind === 'sharded' ? createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic', channelPrefix: prefix }) : createAdapter(pub, sub, { key: prefix }));
    servers.push(io);
    return new AdapterClusterBus(io);
  });
  // Subscriptions are set up asynchronously: probe until every node hears every other.
  const heard = buses.map(() => new Set<string>());
  buses.forEach((bus, i) => bus.subscribe('session:revoked', (id) => id.startsWith(PROBE) && heard[i]!.add(id.split(':')[1]!)));
  let round = 0;
  await waitUntil(
    async () => {
      round++;
      buses.forEach((bus, i) => bus.publish('session:revoked', `${PROBE}${i}:${round}`));
      return heard.every((set) => set.size === n - 1);
    },
    { description: 'every node to hear every other', timeoutMs: 10_000, intervalMs: 100 },
  );
  return {
    buses,
    close: async () => {
      await Promise.all(servers.map((io) => io.close()));
      for (const c of clients) c.disconnect();
    },
  };
}

/** The calls of one event on one node (probes left out). */
function record<E extends ClusterEventName>(bus: ClusterBus, event: E) {
  const calls: unknown[][] = [];
  const handler = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith(PROBE))) calls.push(args);
  };
  bus.subscribe(event, handler as unknown as ClusterEvents[E]);
  return {
    calls,
    until: (count: number) => waitUntil(async () => calls.length >= count, { description: `${count} ${event} event(s)`, timeoutMs: 10_000, intervalMs: 10 }),
  };
}

const implementations: [string, (n: number) => Promise<Nodes>][] = [
  ['memory', async (n) => memoryNodes(n)],
  ['Redis adapter, sharded', (n) => redisNodes(n, 'sharded')],
  ['Redis adapter, classic', (n) => redisNodes(n, 'classic')],
];

describe.each(implementations)('ClusterBus contract: %s', (_name, make) => {
  let nodes: Nodes;
  beforeEach(async () => {
    nodes = await make(3);
  });
  afterEach(() => nodes.close());

  test('an event reaches every other node with its arguments, and never the publisher', async () => {
    const [a, b, c] = nodes.buses as [ClusterBus, ClusterBus, ClusterBus];
    const [atA, atB, atC] = [record(a, 'reads:fence'), record(b, 'reads:fence'), record(c, 'reads:fence')];
    a.publish('reads:fence', ['u1', 'u2'], '12345');
    await Promise.all([atB.until(1), atC.until(1)]);
    expect(atB.calls).toEqual([[['u1', 'u2'], '12345']]);
    expect(atC.calls).toEqual([[['u1', 'u2'], '12345']]);
    // b answers only after a's event reached it; events reach each node in the order published, so had a
    // heard its own event, it would have heard it before b's answer.
    b.publish('reads:fence', ['u3'], '1');
    await atA.until(1);
    expect(atA.calls).toEqual([[['u3'], '1']]);
  });

  test('events from one node arrive in the order published', async () => {
    const [a, b] = nodes.buses as [ClusterBus, ClusterBus];
    const atB = record(b, 'moderation:timeouts');
    const sent = Array.from({ length: 50 }, (_, i) => `room-${i}`);
    for (const roomId of sent) a.publish('moderation:timeouts', roomId);
    await atB.until(sent.length);
    expect(atB.calls).toEqual(sent.map((roomId) => [roomId]));
  });

  test('each event reaches the subscribers of that event only, all of them', async () => {
    const [a, b] = nodes.buses as [ClusterBus, ClusterBus];
    const revoked = record(b, 'session:revoked');
    const timeouts = record(b, 'moderation:timeouts');
    const timeoutsToo = record(b, 'moderation:timeouts');
    a.publish('session:revoked', 'session-1');
    a.publish('moderation:timeouts', 'room-1');
    await Promise.all([revoked.until(1), timeouts.until(1), timeoutsToo.until(1)]);
    expect(revoked.calls).toEqual([['session-1']]);
    expect(timeouts.calls).toEqual([['room-1']]);
    expect(timeoutsToo.calls).toEqual([['room-1']]);
  });
});

describe('MemoryClusterBus', () => {
  test('a node alone (embedded mode) publishes to nobody and hears nothing', async () => {
    const alone = new MemoryClusterBus();
    const other = memoryNodes(2);
    const atAlone = record(alone, 'session:revoked');
    const atOther = record(other.buses[1]!, 'session:revoked');
    alone.publish('session:revoked', 'from-alone');
    other.buses[0]!.publish('session:revoked', 'from-other');
    await atOther.until(1);
    expect(atOther.calls).toEqual([['from-other']]);
    expect(atAlone.calls).toEqual([]);
    alone.close();
    await other.close();
  });
});
