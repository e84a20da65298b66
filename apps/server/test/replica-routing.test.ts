// Reads and replicas (DESIGN.md): reads go to a streaming replica, but a caller always sees its own
// acknowledged writes (read-your-writes), and a replica that is stopped or paused does not fail reads.
// This file starts a PostgreSQL primary + replica of its own: it pauses and stops the replica, which would
// disturb the shared servers other test files use.
import { randomUUID } from 'node:crypto';
import { createDatabase } from '@chat/db';
import type { HistoryResponse, Message, RoomSummary } from '@chat/protocol';
import { createTestDatabase, startPostgres, testServices, waitUntil, type PostgresCluster, type TestDatabase } from '@chat/testkit';
import { buildApp, loadConfig } from '../src/index';
import { collect, connectRaw, createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestNode, type TestUser } from './support/harness';

let pg: PostgresCluster;
let database: TestDatabase;
let node: TestNode;
/** A second node on the same database and Redis, for fences that must cross nodes. */
let other: TestNode;

beforeAll(async () => {
  pg = await startPostgres({ replica: true });
  database = await createTestDatabase({ primaryUrl: pg.primaryUrl, replicaUrl: pg.replicaUrl });
  const env = {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    REDIS_URL: testServices().redisUrl,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    DATABASE_URL: database.url,
    DATABASE_REPLICA_URLS: database.replicaUrl!,
    DATABASE_REPLICA_PROBE_INTERVAL_MS: '100',
    DATABASE_POOL_MAX: '5',
    // Every send through node b goes to the writer (node a, the first to start holds the lease), however
    // few: the relayed-history test below needs it; the other tests do not care who commits.
    SEND_RELAY_MIN_RATE: '0',
  };
  const start = async (nodeId: string): Promise<TestNode> => {
    const config = loadConfig({ ...env, NODE_ID: nodeId });
    const app = await buildApp({ ...config, webDistDir: undefined, argon2: { memoryCost: 4096, timeCost: 1, parallelism: 1 } });
    return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }), close: () => app.close() };
  };
  node = await start('replica-test-a');
  other = await start('replica-test-b');
}, 90_000);

afterAll(async () => {
  await node?.close();
  await other?.close();
  await pg?.resumeReplay().catch(() => undefined);
  await pg?.stop();
});

async function readsByTarget(at: TestNode = node): Promise<Record<string, number>> {
  const res = await fetch(`${at.url}/metrics`);
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^chat_db_reads_total\{[^}]*target="([^"]+)"[^}]*\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Waits until `read` (a request to `at`) is answered by the replica and finds what it expects. */
async function untilReadFromReplica(at: TestNode, read: () => Promise<boolean>, what: string): Promise<void> {
  await waitUntil(
    async () => {
      const before = (await readsByTarget(at))['replica-0'] ?? 0;
      const found = await read();
      return found && ((await readsByTarget(at))['replica-0'] ?? 0) > before;
    },
    { description: `${what} to be read from the replica` },
  );
}

async function metricValue(name: string, replica: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*replica="${replica}"[^}]*\\} (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

async function roomWithSocket(): Promise<{ owner: TestUser; roomId: string; socket: RawSocket }> {
  const owner = await registerUser(node, 'rr');
  const roomId = await createRoom(node, owner);
  const { socket } = await connectRaw(node, owner.accessToken);
  return { owner, roomId, socket };
}

async function send(socket: RawSocket, roomId: string, content: string): Promise<Message> {
  const ack = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content });
  if (!ack.ok) throw new Error(`send failed: ${JSON.stringify(ack.error)}`);
  return ack.message;
}

test('with replay paused, the writer still reads its own messages and cursors; others read the replica', async () => {
  const { owner, roomId, socket } = await roomWithSocket();
  // A user with no write of their own (signing up is not an authenticated write) reads the replica.
  const stranger = await registerUser(node, 'rr');
  await waitUntil(async () => (await metricValue('chat_replica_up', 'replica-0')) === 1, { description: 'the replica to be up' });
  const before = await readsByTarget();
  await http(node.url, 'GET', '/api/rooms/discover?query=room', { token: stranger.accessToken });
  expect((await readsByTarget())['replica-0'] ?? 0).toBeGreaterThan(before['replica-0'] ?? 0);

  await pg.pauseReplay();
  try {
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(socket, roomId, `while paused ${i}`));
    expect(await socket.emitWithAck('message:read', { roomId, seq: 5 })).toEqual({ ok: true });

    const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: owner.accessToken });
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    const rooms = await http<{ rooms: RoomSummary[] }>(node.url, 'GET', '/api/rooms', { token: owner.accessToken });
    expect(rooms.body.rooms.find((r) => r.id === roomId)).toMatchObject({ lastSeq: 5, readSeq: 5, unread: 0 });

    // The replica really is behind: read directly, it has none of them.
    const direct = await fetchReplicaLastSeq(roomId);
    expect(direct).toBe(0);
  } finally {
    await pg.resumeReplay();
  }
  socket.close();
});

test('with replay paused, a user admitted by someone else on another node sees the room as soon as they are told', async () => {
  const { owner, roomId, socket } = await roomWithSocket();
  const bob = await registerUser(other, 'rr');
  const { socket: bobSocket } = await connectRaw(other, bob.accessToken);
  await database.waitForReplicaCatchUp();
  await pg.pauseReplay();
  try {
    const told = new Promise<{ room: { id: string } }>((resolve) => bobSocket.once('room:joined', resolve));
    // The owner invites bob through node a; bob's socket and his HTTP calls are on node b.
    const invite = await http(node.url, 'POST', `/api/rooms/${roomId}/invites`, { token: owner.accessToken, body: { userId: bob.user.id } });
    expect(invite.status).toBe(200);
    expect((await told).room.id).toBe(roomId);
    const rooms = await http<{ rooms: RoomSummary[] }>(other.url, 'GET', '/api/rooms', { token: bob.accessToken });
    expect(rooms.body.rooms.map((r) => r.id)).toContain(roomId);
    const members = await http<{ members: { userId: string }[] }>(other.url, 'GET', `/api/rooms/${roomId}/members`, { token: bob.accessToken });
    expect(members.status).toBe(200);
    expect(members.body.members.map((m) => m.userId)).toContain(bob.user.id);
  } finally {
    await pg.resumeReplay();
  }
  socket.close();
  bobSocket.close();
});

test('with replay paused, a member told of an edit, a delete or a reaction on another node reads the history with it', async () => {
  const { roomId, socket } = await roomWithSocket();
  const bob = await registerUser(other, 'rr');
  await joinRoom(other, bob, roomId);
  const { socket: bobSocket } = await connectRaw(other, bob.accessToken);
  const edited = await send(socket, roomId, 'first words');
  const deleted = await send(socket, roomId, 'soon gone');
  await database.waitForReplicaCatchUp();
  const history = async (): Promise<Message[]> => {
    const res = await http<HistoryResponse>(other.url, 'GET', `/api/rooms/${roomId}/messages`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    return res.body.messages;
  };
  // Bob's history is read from the replica before any change: once it has replayed his join (his own write).
  await untilReadFromReplica(other, async () => (await history()).length === 2, "bob's history");
  await pg.pauseReplay();
  try {
    const updates = collect(bobSocket, 'message:updated');
    const reacted = nextEvent(bobSocket, 'reaction:updated');
    expect(await socket.emitWithAck('message:edit', { id: edited.id, content: 'second words' })).toMatchObject({ ok: true });
    expect(await socket.emitWithAck('message:delete', { id: deleted.id })).toMatchObject({ ok: true });
    expect(await socket.emitWithAck('reaction:add', { messageId: edited.id, emoji: '👍' })).toMatchObject({ ok: true });
    await reacted;
    expect(updates.map((m) => m.id)).toEqual([edited.id, deleted.id]);
    const seen = await history();
    expect(seen.find((m) => m.id === edited.id)).toMatchObject({ content: 'second words', reactions: [{ emoji: '👍', count: 1 }] });
    expect(seen.find((m) => m.id === deleted.id)).toMatchObject({ deleted: true });

    // The replica really is behind: read directly, the edit is not there yet.
    const replica = await createDatabase({ kind: 'postgres', primaryUrl: database.replicaUrl!, poolMax: 1 });
    try {
      const row = await replica.primary.selectFrom('messages').select('content').where('id', '=', edited.id).executeTakeFirstOrThrow();
      expect(row.content).toBe('first words');
    } finally {
      await replica.close();
    }
  } finally {
    await pg.resumeReplay();
  }
  socket.close();
  bobSocket.close();
});

test('with replay paused, a member told on another node that someone joined or changed role sees it in the member list', async () => {
  const { owner, roomId, socket } = await roomWithSocket();
  const bob = await registerUser(other, 'rr');
  const carol = await registerUser(node, 'rr');
  await joinRoom(other, bob, roomId);
  const { socket: bobSocket } = await connectRaw(other, bob.accessToken);
  const members = async (): Promise<{ userId: string; role: string }[]> => {
    const res = await http<{ members: { userId: string; role: string }[] }>(other.url, 'GET', `/api/rooms/${roomId}/members`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    return res.body.members;
  };
  // Bob's member list is read from the replica before any change: once it has replayed his join.
  await untilReadFromReplica(other, async () => (await members()).length === 2, "bob's member list");
  await pg.pauseReplay();
  try {
    const joined = nextEvent(bobSocket, 'member:joined');
    await joinRoom(node, carol, roomId);
    expect((await joined).member.userId).toBe(carol.user.id);
    expect((await members()).map((m) => m.userId)).toContain(carol.user.id);

    const updated = nextEvent(bobSocket, 'member:updated');
    const promoted = await http(node.url, 'PATCH', `/api/rooms/${roomId}/members/${carol.user.id}`, { token: owner.accessToken, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect((await updated).member).toMatchObject({ userId: carol.user.id, role: 'admin' });
    expect((await members()).find((m) => m.userId === carol.user.id)?.role).toBe('admin');
  } finally {
    await pg.resumeReplay();
  }
  socket.close();
  bobSocket.close();
});

test('with replay paused, the writer node reads in the history what it committed for a send through another node', async () => {
  const { owner, roomId, socket } = await roomWithSocket();
  const bob = await registerUser(other, 'rr');
  await joinRoom(other, bob, roomId);
  const { socket: bobSocket } = await connectRaw(other, bob.accessToken);
  await database.waitForReplicaCatchUp();
  // The owner reads on node a, which never sees bob's sends as its own: only as the writer that commits them.
  const history = async (): Promise<Message[]> => {
    const res = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: owner.accessToken });
    expect(res.status).toBe(200);
    return res.body.messages;
  };
  await untilReadFromReplica(node, async () => (await history()).length === 0, "the owner's history");
  const relayed = async (): Promise<number> => {
    const text = await (await fetch(`${other.url}/metrics`)).text();
    return Number(/^chat_send_routes_total\{[^}]*route="relayed"[^}]*\} (\S+)/m.exec(text)?.[1] ?? 0);
  };
  const relayedBefore = await relayed();
  await pg.pauseReplay();
  try {
    const sent: Message[] = [];
    for (let i = 0; i < 3; i++) sent.push(await send(bobSocket, roomId, `relayed ${i}`));
    expect(await relayed()).toBe(relayedBefore + 3);
    expect((await history()).map((m) => m.id)).toEqual(sent.map((m) => m.id));
    // The replica really is behind: read directly, it has none of them.
    expect(await fetchReplicaLastSeq(roomId)).toBe(0);
  } finally {
    await pg.resumeReplay();
  }
  socket.close();
  bobSocket.close();
});

test('a stopped replica does not fail reads, and reads return to it once it is back', async () => {
  const { owner, roomId, socket } = await roomWithSocket();
  await send(socket, roomId, 'before the replica stops');
  await pg.stopReplica();
  try {
    for (let i = 0; i < 10; i++) {
      const res = await http<{ rooms: RoomSummary[] }>(node.url, 'GET', '/api/rooms/discover?query=room', { token: owner.accessToken });
      expect(res.status).toBe(200);
      const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: owner.accessToken });
      expect(history.status).toBe(200);
      expect(history.body.messages).toHaveLength(1);
    }
    await waitUntil(async () => (await metricValue('chat_replica_up', 'replica-0')) === 0, { description: 'the replica to be marked down' });
  } finally {
    await pg.startReplica();
  }
  await waitUntil(async () => (await metricValue('chat_replica_up', 'replica-0')) === 1, {
    description: 'the replica to be marked up again',
    timeoutMs: 20_000,
  });
  const before = (await readsByTarget())['replica-0'] ?? 0;
  const res = await http(node.url, 'GET', '/api/rooms/discover?query=room', { token: (await registerUser(node, 'rr')).accessToken });
  expect(res.status).toBe(200);
  expect((await readsByTarget())['replica-0'] ?? 0).toBeGreaterThan(before);
  socket.close();
});

async function fetchReplicaLastSeq(roomId: string): Promise<number> {
  // The replica opened as a plain database: reads work on a hot standby.
  const direct = await createDatabase({ kind: 'postgres', primaryUrl: database.replicaUrl!, poolMax: 1 });
  try {
    const row = await direct.primary.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst();
    return row?.last_seq ?? 0;
  } finally {
    await direct.close();
  }
}
