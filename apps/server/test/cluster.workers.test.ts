// WORKERS=n: one node process forks n workers behind @socket.io/sticky; Socket.IO sessions (long-polling
// first, then the WebSocket upgrade) stick to their worker, and the Redis adapter joins the workers like
// separate nodes.
import { randomUUID } from 'node:crypto';
import type { AuthResponse, Message } from '@chat/protocol';
import { describeClusterLogs, startCluster, waitUntil, type Cluster } from '@chat/testkit';
import { io } from 'socket.io-client';
import type { RawSocket } from './support/harness';
import { expectedNodeBacklog, listenBacklog } from './support/listen-backlog';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 1, workers: 2, env: { LOG_LEVEL: 'warn' } });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(cluster.nodes[0]!.url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
  return (await res.json()) as T;
}

test('sessions spread over the workers, stick to theirs through the upgrade, and messages cross workers', async () => {
  try {
    const alice = await api<AuthResponse>('POST', '/api/auth/register', undefined, { username: `wk_${Date.now().toString(36)}`, password: 'correct horse battery' });
    const { room } = await api<{ room: { id: string } }>('POST', '/api/rooms', alice.accessToken, { name: 'workers', type: 'public' });
    const sockets: RawSocket[] = [];
    const hellos: string[] = [];
    const received = new Map<number, Message[]>();
    const upgradeErrors: string[] = [];
    // Default transports: long-polling requests first, so each request must reach the session's worker.
    for (let i = 0; i < 6; i++) {
      const socket = io(cluster.nodes[0]!.url, { auth: { token: alice.accessToken }, forceNew: true, reconnection: false }) as RawSocket;
      received.set(i, []);
      // A failed upgrade leaves the session on long-polling for good: recorded, for the failure message.
      socket.io.on('open', () => socket.io.engine.on('upgradeError', (err: Error) => upgradeErrors.push(`socket ${i}: ${err.message}`)));
      socket.on('message:new', (m) => received.get(i)!.push(m));
      const hello = await new Promise<string>((resolve, reject) => {
        socket.once('hello', (h) => resolve(h.node));
        socket.once('connect_error', reject);
      });
      hellos.push(hello);
      sockets.push(socket);
    }
    expect(new Set(hellos)).toEqual(new Set([`${cluster.nodes[0]!.id}-w0`, `${cluster.nodes[0]!.id}-w1`]));
    await waitUntil(async () => sockets.every((s) => s.io.engine.transport.name === 'websocket'), {
      description: 'every session upgraded',
      abortReason: () => (upgradeErrors.length > 0 ? `upgrade failed: ${upgradeErrors.join('; ')}` : undefined),
    });

    const sender = sockets[0]!;
    const ack = await sender.emitWithAck('message:send', { id: randomUUID(), roomId: room.id, content: 'across workers' });
    expect(ack.ok).toBe(true);
    // Every other socket, on both workers, gets it live; the sending socket has it in its ack.
    if (ack.ok) expect(ack.message.content).toBe('across workers');
    await waitUntil(async () => [...received].filter(([i]) => i !== 0).every(([, list]) => list.some((m) => m.content === 'across workers')), {
      description: 'the message on every worker',
    });
    for (const s of sockets) s.close();
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${describeClusterLogs(cluster)}`);
  }
});

test('the primary process, which accepts for its workers, listens with the same backlog as a single node', () => {
  expect(listenBacklog(cluster.nodes[0]!.port)).toBe(expectedNodeBacklog());
});
