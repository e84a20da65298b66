// Acked-set checks, Jepsen style, through NGINX with three node processes (issue: the cluster). Writers on
// different nodes send uniquely numbered messages while a fault is injected: (a) a node is SIGKILLed and
// restarted, (b) Redis is restarted, (c) a node is drained with SIGTERM and started again. Clients reconnect
// and retry unacknowledged sends with the same id. After healing: every acknowledged id is in history exactly
// once, seq is gapless, and every client holds the full set through live delivery plus sync. Each scenario
// prints acked / lost / duplicated / indeterminate counts. The same cluster also shows a membership change and
// presence crossing nodes through NGINX.
import { describeClusterLogs, startCluster, waitUntil, type Cluster, type ClusterNode } from '@chat/testkit';
import type { AuthResponse, HistoryResponse, Message } from '@chat/protocol';
import { JepsenClient } from './support/jepsen-client';

const WRITERS = 6;
const MESSAGES_PER_WRITER = 30;
const SCENARIO_DEADLINE_MS = 90_000;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    // Every batch through the cluster's writer, however few sends (SEND_RELAY_MIN_RATE 0): the relay's
    // fallback when the writer dies or drains is what these faults must not lose anything through. Quiet
    // nodes commit their own, which is the same commit as a fallback's.
    env: { DRAIN_WINDOW_MS: '1000', PRESENCE_HEARTBEAT_MS: '1000', LOG_LEVEL: 'warn', SEND_RELAY_MIN_RATE: '0' },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(cluster.entryUrl + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function register(prefix: string): Promise<AuthResponse> {
  const res = await api<AuthResponse>('POST', '/api/auth/register', undefined, {
    username: `${prefix}_${Math.random().toString(36).slice(2, 8)}`,
    password: 'correct horse battery',
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Every message of the room, paged through history (read through NGINX, so from replicas too). */
async function fullHistory(roomId: string, token: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let page = 0; page < 100; page++) {
    const res = await api<HistoryResponse>('GET', `/api/rooms/${roomId}/messages?after=${out.at(-1)?.seq ?? 0}&limit=100`, token);
    if (res.status !== 200) throw new Error(`history: ${res.status}`);
    out.push(...res.body.messages);
    if (!res.body.hasMore) break;
  }
  return out;
}

interface Report {
  scenario: string;
  attempted: number;
  acked: number;
  lost: number;
  duplicated: number;
  indeterminate: number;
  indeterminateStored: number;
  retries: number;
  reconnects: number;
}

async function runScenario(name: string, fault: (clients: JepsenClient[]) => Promise<void>): Promise<Report> {
  const owner = await register('owner');
  const room = await api<{ room: { id: string } }>('POST', '/api/rooms', owner.accessToken, { name: `jepsen ${name}`, type: 'public' });
  const roomId = room.body.room.id;
  const users = await Promise.all(Array.from({ length: WRITERS }, (_, i) => register(`w${i}`)));
  for (const u of users) expect((await api('POST', `/api/rooms/${roomId}/join`, u.accessToken)).status).toBe(200);

  // Each writer plays a different host (127.0.K.1), so ip_hash spreads them over the nodes.
  const clients = users.map((u, i) => new JepsenClient(cluster.entryUrl, `127.0.${i + 20}.1`, u.accessToken, roomId));
  try {
    await waitUntil(async () => clients.every((c) => c.nodes.length > 0), { description: 'every writer connected', timeoutMs: 30_000 });
    expect(new Set(clients.map((c) => c.nodes[0])).size).toBeGreaterThan(1);

    const deadline = Date.now() + SCENARIO_DEADLINE_MS;
    const outcomes: { writer: number; k: number; id: string; acked: boolean; attempts: number }[] = [];
    let ackedSoFar = 0;
    const faultDone = (async () => {
      // The fault strikes once a third of the messages are acknowledged, while writers keep sending.
      await waitUntil(async () => ackedSoFar >= (WRITERS * MESSAGES_PER_WRITER) / 3, { description: 'a third acknowledged', timeoutMs: 60_000 });
      await fault(clients);
    })();
    await Promise.all(
      clients.map(async (c, writer) => {
        for (let k = 1; k <= MESSAGES_PER_WRITER; k++) {
          const r = await c.send(`w${writer}#${k}`, deadline);
          outcomes.push({ writer, k, id: r.id, acked: r.message !== undefined, attempts: r.attempts });
          if (r.message) ackedSoFar++;
        }
      }),
    );
    await faultDone;

    // Healing: every client catches up through sync (and live delivery) to everything stored.
    const history = await (async () => {
      await cluster.postgres.waitForReplicaCatchUp();
      return fullHistory(roomId, owner.accessToken);
    })();
    await waitUntil(
      async () => {
        await Promise.all(clients.map((c) => c.sync()));
        return clients.every((c) => c.received.size >= history.length);
      },
      { description: 'every client to hold the whole history', timeoutMs: 60_000 },
    );

    const acked = outcomes.filter((o) => o.acked);
    const stored = new Map(history.map((m) => [m.id, m]));
    const lost = acked.filter((o) => !stored.has(o.id));
    const byContent = new Map<string, number>();
    for (const m of history) byContent.set(m.content, (byContent.get(m.content) ?? 0) + 1);
    const duplicated = [...byContent.values()].filter((n) => n > 1).length + (history.length - stored.size);
    const indeterminate = outcomes.filter((o) => !o.acked);
    const report: Report = {
      scenario: name,
      attempted: outcomes.length,
      acked: acked.length,
      lost: lost.length,
      duplicated,
      indeterminate: indeterminate.length,
      indeterminateStored: indeterminate.filter((o) => stored.has(o.id)).length,
      retries: outcomes.reduce((n, o) => n + Math.max(0, o.attempts - 1), 0),
      reconnects: clients.reduce((n, c) => n + c.reconnects, 0),
    };
    console.log(`acked-set ${name}: ${JSON.stringify(report)}`);

    // Nothing acknowledged is lost, nothing is stored twice, seq is gapless.
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
    // Every stored message is one the writers sent (acknowledged, or in doubt and retried to the end).
    for (const m of history) expect(outcomes.some((o) => o.id === m.id)).toBe(true);
    // Every client ends with exactly the stored set, and received each message once live, except one whose
    // send was retried: a retry answered from the store by a node that had not announced the message is
    // broadcast again (its first commit may never have been), at most once per attempt; clients keep one.
    const attempts = new Map(outcomes.map((o) => [o.id, o.attempts]));
    for (const c of clients) {
      expect(new Set(c.received.keys())).toEqual(new Set(stored.keys()));
      const extra = [...c.liveCopies].filter(([id, n]) => n > 1 && n > (attempts.get(id) ?? 1));
      expect(extra).toEqual([]);
    }
    // After healing, live delivery crosses nodes again (no client needs a sync to see a new message).
    const probe = `after ${name}`;
    const arrivals = clients.map((c) => waitUntil(async () => [...c.received.values()].some((m) => m.content === probe), { description: `${c.source} to get the probe live`, timeoutMs: 15_000 }));
    const sent = await clients[0]!.send(probe, Date.now() + 15_000);
    expect(sent.message).toBeDefined();
    await Promise.all(arrivals);
    return report;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${describeClusterLogs(cluster)}`);
  } finally {
    for (const c of clients) c.close();
  }
}

/** The node most writers landed on. */
function busiestNode(clients: JepsenClient[]): ClusterNode {
  const counts = new Map<string, number>();
  for (const c of clients) {
    const node = c.nodes.at(-1);
    if (node) counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return cluster.nodes.find((n) => n.id === top?.[0]) ?? cluster.nodes[0]!;
}

test('(a) a node is killed with SIGKILL and restarted', async () => {
  await runScenario('sigkill', async (clients) => {
    const node = busiestNode(clients);
    await node.kill('SIGKILL');
    await node.restart();
  });
}, 240_000);

test('(b) Redis is restarted', async () => {
  await runScenario('redis-restart', async () => {
    await cluster.redis.restart();
  });
}, 240_000);

test('(c) a node is drained with SIGTERM and started again', async () => {
  await runScenario('sigterm-drain', async (clients) => {
    const node = busiestNode(clients);
    await node.stop();
    await node.restart();
  });
}, 240_000);

test('through NGINX: a membership change made through one node reaches a socket on another without a reconnect; presence crosses nodes', async () => {
  const owner = await register('owner');
  const guest = await register('guest');
  const room = await api<{ room: { id: string } }>('POST', '/api/rooms', owner.accessToken, { name: 'membership', type: 'private' });
  const roomId = room.body.room.id;
  // Two hosts that ip_hash puts on different nodes.
  let ownerClient: JepsenClient | undefined;
  let guestClient: JepsenClient | undefined;
  try {
    for (let k = 40; k < 60 && !guestClient; k++) {
      ownerClient ??= new JepsenClient(cluster.entryUrl, '127.0.40.1', owner.accessToken, roomId);
      await waitUntil(async () => ownerClient!.nodes.length > 0, { description: 'owner connected' });
      const candidate = new JepsenClient(cluster.entryUrl, `127.0.${k + 1}.1`, guest.accessToken, roomId);
      await waitUntil(async () => candidate.nodes.length > 0, { description: 'guest connected' });
      if (candidate.nodes[0] !== ownerClient.nodes[0]) guestClient = candidate;
      else candidate.close();
    }
    expect(guestClient).toBeDefined();
    const g = guestClient!;
    const o = ownerClient!;
    // The owner invites the guest through the owner's node; the guest's socket lives on another node.
    const joined = new Promise<{ room: { id: string } }>((resolve) => g.socket.once('room:joined', resolve));
    const ownerNode = cluster.nodes.find((n) => n.id === o.nodes[0])!;
    const invite = await fetch(`${ownerNode.url}/api/rooms/${roomId}/invites`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
      body: JSON.stringify({ userId: guest.user.id }),
    });
    expect(invite.status).toBe(200);
    expect((await joined).room.id).toBe(roomId);
    // Without reconnecting, the guest's socket is in the room now: it receives and may send.
    const sent = await o.send('welcome across nodes', Date.now() + 15_000);
    expect(sent.message).toBeDefined();
    await waitUntil(async () => g.received.has(sent.id), { description: 'the guest to receive the message live' });
    expect(g.reconnects).toBe(0);
    const reply = await g.send('thanks', Date.now() + 15_000);
    expect(reply.message).toBeDefined();
    await waitUntil(async () => o.received.has(reply.id), { description: 'the owner to receive the reply' });
    // Presence: the owner's node answers for a user connected on another node.
    const state = (await o.socket.emitWithAck('presence:get', { userIds: [guest.user.id] })) as { ok: true; presence: { online: boolean }[] };
    expect(state.presence[0]?.online).toBe(true);
    const offline = new Promise<{ userId: string; online: boolean }>((resolve) =>
      o.socket.on('presence', (p) => {
        if (p.userId === guest.user.id && !p.online) resolve(p);
      }),
    );
    g.close();
    guestClient = undefined;
    expect(await offline).toMatchObject({ userId: guest.user.id, online: false });
  } finally {
    ownerClient?.close();
    guestClient?.close();
  }
}, 120_000);
