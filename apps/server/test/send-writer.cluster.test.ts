// One writer for the cluster (features/messages/send-writer.ts): with SEND_WRITER=relay (the cluster
// default) the node holding the writer's lease commits every node's sends; a node whose writer is gone
// commits its own, and nothing acknowledged is lost or stored twice. Real nodes, PostgreSQL and Redis.
import { randomUUID } from 'node:crypto';
import type { Message } from '@chat/protocol';
import { testServices } from '@chat/testkit';
import { createDataHome, createRoom, connectRaw, http, joinRoom, nextEvent, registerUser, startNode, type DataHome, type RawSocket, type TestNode } from './support/harness';

/** A sample's value from a node's /metrics, `name{label="v"}` or `name` (0 when absent; the `node` label is ignored). */
async function metric(node: TestNode, series: string): Promise<number> {
  const [name, labels = ''] = series.replace('}', '').split('{') as [string, string?];
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/**
 * Two nodes on one database and Redis, for the suite that calls it: started one after the other, so the
 * first takes the writer's lease. `sockets` are closed after the suite.
 */
function twoNodes(env: Record<string, string>): { nodes: TestNode[]; sockets: RawSocket[] } {
  let home: DataHome;
  const nodes: TestNode[] = [];
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    home = await createDataHome('postgres');
    nodes.push(await startNode(home, env));
    nodes.push(await startNode(home, env));
  }, 180_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes) await n.close().catch(() => undefined);
    await home.dispose();
  });
  return { nodes, sockets };
}

describe('send writer: one node commits the cluster\'s sends', () => {
  // Every batch through the writer, however few (the quiet route has its own suite below).
  const { nodes, sockets } = twoNodes({ REDIS_URL: testServices().redisUrl, SEND_WRITER: 'relay', SEND_RELAY_MIN_RATE: '0', SEND_RELAY_TIMEOUT_MS: '300', SEND_WRITER_LEASE_MS: '600' });

  test('sends through the other node are committed by the writer, acknowledged and delivered in order', async () => {
    const [writer, other] = nodes as [TestNode, TestNode];
    const alice = await registerUser(writer, 'alice');
    const bob = await registerUser(other, 'bob');
    const roomId = await createRoom(writer, alice);
    await joinRoom(other, bob, roomId);
    const ca = await connectRaw(writer, alice.accessToken);
    const cb = await connectRaw(other, bob.accessToken);
    sockets.push(ca.socket, cb.socket);

    const relayedBefore = await metric(other, 'chat_send_routes_total{route="relayed"}');
    const otherBatchesBefore = await metric(other, 'chat_persist_batch_size_count');
    const writerBatchesBefore = await metric(writer, 'chat_persist_batch_size_count');

    const atAlice = nextEvent(ca.socket, 'message:new', (m) => m.content === 'five');
    const acks = await Promise.all(
      ['one', 'two', 'three', 'four', 'five'].map((content) => cb.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content })),
    );
    await atAlice;
    const seqs = acks.map((a) => (a.ok ? (a as { message: Message }).message.seq : 0)).sort((x, y) => x - y);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);

    // Committed by the writer, not by the node the sends came through.
    expect(await metric(other, 'chat_send_routes_total{route="relayed"}')).toBeGreaterThan(relayedBefore);
    expect(await metric(other, 'chat_persist_batch_size_count')).toBe(otherBatchesBefore);
    expect(await metric(writer, 'chat_persist_batch_size_count')).toBeGreaterThan(writerBatchesBefore);

    // A refusal made on the writer comes back as the same error: a reply to a message of another room.
    // Sent right after the REST answer, as a client does: bob's socket on that node is in the room already.
    const elsewhere = await createRoom(other, bob);
    const stranger = await cb.socket.emitWithAck('message:send', { id: randomUUID(), roomId: elsewhere, content: 'x', replyTo: (acks[0] as { message: Message }).message.id });
    expect(stranger).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    // A retried id is answered as stored, through the relay too.
    const id = randomUUID();
    const first = await cb.socket.emitWithAck('message:send', { id, roomId, content: 'once' });
    const again = await cb.socket.emitWithAck('message:send', { id, roomId, content: 'once' });
    expect(again).toEqual(first);

    const history = await http<{ messages: Message[] }>(writer.url, 'GET', `/api/rooms/${roomId}/messages`, { token: alice.accessToken });
    expect(history.body.messages.map((m) => m.content).sort()).toEqual(['five', 'four', 'once', 'one', 'three', 'two']);
    expect(history.body.messages.filter((m) => m.content === 'once')).toHaveLength(1);
    expect(history.body.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('the writer broadcasts what it commits for the other node; a message with files is broadcast where it was sent', async () => {
    const [writer, other] = nodes as [TestNode, TestNode];
    const dave = await registerUser(writer, 'dave');
    const erin = await registerUser(other, 'erin');
    const roomId = await createRoom(writer, dave);
    await joinRoom(other, erin, roomId);
    const cd = await connectRaw(writer, dave.accessToken);
    const ce = await connectRaw(other, erin.accessToken);
    sockets.push(cd.socket, ce.socket);
    const delivered = async () => [await metric(writer, 'chat_messages_delivered_total'), await metric(other, 'chat_messages_delivered_total')];
    const before = await delivered();

    // Text only: committed and broadcast by the writer (its count of broadcasts moves, the other node's not),
    // and it reaches the sender's own socket on the other node too.
    const id = randomUUID();
    const atDave = nextEvent(cd.socket, 'message:new', (m) => m.id === id);
    const atErin = nextEvent(ce.socket, 'message:new', (m) => m.id === id);
    const ack = await ce.socket.emitWithAck('message:send', { id, roomId, content: 'plain' });
    expect(ack).toMatchObject({ ok: true, message: { id, content: 'plain' } });
    const [seenByDave, seenByErin] = await Promise.all([atDave, atErin]);
    expect(seenByDave).toEqual((ack as { message: Message }).message);
    expect(seenByErin).toEqual(seenByDave);
    expect(await delivered()).toEqual([before[0]! + 1, before[1]!]);
    // A retry through the other node is answered as stored and not broadcast again by either node.
    expect(await ce.socket.emitWithAck('message:send', { id, roomId, content: 'plain' })).toEqual(ack);
    expect(await delivered()).toEqual([before[0]! + 1, before[1]!]);

    // With a file: the writer knows nothing of the files claimed on the other node, which broadcasts it.
    const withFile = randomUUID();
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
    const up = await fetch(`${other.url}/api/rooms/${roomId}/files?${new URLSearchParams({ messageId: withFile, name: 'dot.png' })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${erin.accessToken}`, 'content-type': 'image/png' },
      body: png,
    });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    const fileAtDave = nextEvent(cd.socket, 'message:new', (m) => m.id === withFile);
    const sent = await ce.socket.emitWithAck('message:send', { id: withFile, roomId, content: 'a dot', attachments: [file.id] });
    expect(sent).toMatchObject({ ok: true, message: { id: withFile, attachments: [file] } });
    expect((await fileAtDave).attachments).toEqual([file]);
    expect(await delivered()).toEqual([before[0]! + 1, before[1]! + 1]);
  });

  test('when the writer is gone the other node commits by itself, and the role moves to it', async () => {
    const [writer, other] = nodes as [TestNode, TestNode];
    const carol = await registerUser(other, 'carol');
    const roomId = await createRoom(other, carol);
    const cc = await connectRaw(other, carol.accessToken);
    sockets.push(cc.socket);
    await writer.close();

    // Sent at once: the other node may still name the old writer, which no longer answers.
    const sent = await Promise.all(['a', 'b', 'c'].map((content) => cc.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content })));
    expect(sent.every((a) => a.ok)).toBe(true);
    const history = await http<{ messages: Message[] }>(other.url, 'GET', `/api/rooms/${roomId}/messages`, { token: carol.accessToken });
    expect(history.body.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(
      (await metric(other, 'chat_send_routes_total{route="fallback"}')) + (await metric(other, 'chat_send_routes_total{route="local"}')),
    ).toBeGreaterThan(0);
  });
});

describe('send writer: a quiet node commits its own sends', () => {
  const { nodes, sockets } = twoNodes({ REDIS_URL: testServices().redisUrl, SEND_WRITER: 'relay', SEND_RELAY_MIN_RATE: '20', SEND_WRITER_LEASE_MS: '600', MESSAGES_PER_SECOND: '100' });

  test('a send after a quiet spell is committed where it arrived; a burst over the rate goes to the writer', async () => {
    const [writer, other] = nodes as [TestNode, TestNode];
    const dan = await registerUser(other, 'dan');
    const roomId = await createRoom(other, dan);
    const cd = await connectRaw(other, dan.accessToken);
    sockets.push(cd.socket);
    const batches = async () => ({
      quiet: await metric(other, 'chat_send_routes_total{route="quiet"}'),
      relayed: await metric(other, 'chat_send_routes_total{route="relayed"}'),
      here: await metric(other, 'chat_persist_batch_size_count'),
      atWriter: await metric(writer, 'chat_persist_batch_size_count'),
    });

    const before = await batches();
    const lone = await cd.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'alone' });
    expect(lone).toMatchObject({ ok: true, message: { seq: 1 } });
    const afterLone = await batches();
    expect(afterLone).toEqual({ ...before, quiet: before.quiet + 1, here: before.here + 1 });

    // 30 sends at once: more than 20 a second, so the batches they form go to the writer (the first may
    // already be on its way when the count passes 20, so at least one is relayed, and all are stored).
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => cd.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: `b${i}` })));
    expect(burst.every((a) => a.ok)).toBe(true);
    const afterBurst = await batches();
    expect(afterBurst.relayed).toBeGreaterThan(afterLone.relayed);
    expect(afterBurst.atWriter).toBeGreaterThan(afterLone.atWriter);
    // Read on the writer, which never saw dan's sends as its own: it passes over a replica behind what it
    // committed for the other node (`onRelayedStored`), so all 31 are there even with replay behind.
    const history = await http<{ messages: Message[] }>(writer.url, 'GET', `/api/rooms/${roomId}/messages?limit=50`, { token: dan.accessToken });
    expect(history.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });
});
