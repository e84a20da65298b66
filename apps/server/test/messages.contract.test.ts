import { randomUUID } from 'node:crypto';
import type { Ack, HistoryResponse, MembersResponse, Message, Receipts } from '@chat/protocol';
import { collect, createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

type SendAck = Ack<{ message: Message }>;

function send(socket: RawSocket, roomId: string, content: string, id: string = randomUUID()): Promise<SendAck> {
  return socket.emitWithAck('message:send', { id, roomId, content }) as Promise<SendAck>;
}

function okMessage(ack: SendAck): Message {
  if (!ack.ok) throw new Error(`send failed: ${JSON.stringify(ack.error)}`);
  return ack.message;
}

describeOnEachBackend('messages', { env: { MESSAGES_PER_SECOND: '1000' } }, (node) => {
  async function member(roomId: string): Promise<{ user: TestUser; socket: RawSocket }> {
    const user = await registerUser(node);
    await joinRoom(node, user, roomId);
    const { socket } = await node.connect(user.accessToken);
    return { user, socket };
  }

  async function ownerAndRoom(type: 'public' | 'private' = 'public') {
    const owner = await registerUser(node);
    const roomId = await createRoom(node, owner, type);
    const { socket } = await node.connect(owner.accessToken);
    return { owner, roomId, socket };
  }

  test('a send is acknowledged with the stored message and broadcast to the other members', async () => {
    const { owner, roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    const received = nextEvent(bob.socket, 'message:new');
    const content = '  <b>hi</b> & "bob"  ';
    const message = okMessage(await send(socket, roomId, content));
    expect(message).toMatchObject({ roomId, seq: 1, senderId: owner.user.id, senderName: owner.user.displayName, content });
    expect(await received).toEqual(message);
  });

  test("the sender's ack is written before the room's broadcast, which reaches the sender's socket after it", async () => {
    const { roomId, socket } = await ownerAndRoom();
    // One connection, so the order the node wrote is the order the client sees: the ack's callback runs as
    // its packet is decoded, and the room's broadcast (the sender's socket is in the room) comes on the same
    // connection. The ack does not wait for the room's local socket writes (docs/performance.md, "Local
    // sockets first"); before, the broadcast was written first on one node.
    // Both are recorded synchronously, in the client's listener and ack callback.
    const order: string[] = [];
    const echoed = nextEvent(socket, 'message:new');
    const onNew = () => order.push('message:new');
    socket.on('message:new', onNew);
    const acked = new Promise<SendAck>((resolve) => {
      (socket.emit as (event: string, payload: unknown, ack: (a: SendAck) => void) => void)('message:send', { id: randomUUID(), roomId, content: 'ordered' }, (a) => {
        order.push('ack');
        resolve(a);
      });
    });
    const [ack, echo] = await Promise.all([acked, echoed]);
    socket.off('message:new', onNew);
    expect(echo).toEqual(okMessage(ack));
    expect(order).toEqual(['ack', 'message:new']);
  });

  test('20 clients sending at once get seq exactly 1..N, in commit order', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const members = await Promise.all(Array.from({ length: 19 }, () => member(roomId)));
    const all = [socket, ...members.map((m) => m.socket)];
    const perClient = 5;
    const acks = await Promise.all(all.flatMap((s, i) => Array.from({ length: perClient }, (_, j) => send(s, roomId, `c${i} m${j}`))));
    const seqs = acks.map((a) => okMessage(a).seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: all.length * perClient }, (_, i) => i + 1));
    const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages?limit=100`, { token: members[0]!.user.accessToken });
    expect(history.body.messages.map((m) => m.seq)).toEqual(seqs);
  });

  test('the same id sent three times concurrently gives one message and one broadcast', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    const seen = collect(bob.socket, 'message:new');
    const id = randomUUID();
    const acks = await Promise.all([send(socket, roomId, 'once', id), send(socket, roomId, 'once', id), send(socket, roomId, 'twice?', id)]);
    const messages = acks.map(okMessage);
    expect(new Set(messages.map((m) => m.seq))).toEqual(new Set([1]));
    expect(messages.every((m) => m.content === 'once')).toBe(true);
    // A later message is a barrier: once bob has it, he has had every broadcast before it.
    const barrier = nextEvent(bob.socket, 'message:new', (m) => m.content === 'barrier');
    okMessage(await send(socket, roomId, 'barrier'));
    await barrier;
    expect(seen.filter((m) => m.id === id)).toHaveLength(1);
  });

  test('a retry of a stored id returns it whatever content it carries; another sender or room gets CONFLICT', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const other = await ownerAndRoom();
    const bob = await member(roomId);
    const id = randomUUID();
    const first = okMessage(await send(socket, roomId, 'original', id));
    const retry = okMessage(await send(socket, roomId, 'changed', id));
    expect(retry).toEqual(first);
    const fromBob = await send(bob.socket, roomId, 'original', id);
    expect(fromBob).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const otherRoom = await send(other.socket, other.roomId, 'original', id);
    expect(otherRoom).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  test('sending into a public room one is not in is FORBIDDEN, into a private one NOT_FOUND; nothing is stored', async () => {
    const pub = await ownerAndRoom('public');
    const priv = await ownerAndRoom('private');
    const stranger = await registerUser(node);
    const { socket } = await node.connect(stranger.accessToken);
    expect(await send(socket, pub.roomId, 'x')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await send(socket, priv.roomId, 'x')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await send(socket, 'no-such-room', 'x')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${pub.roomId}/messages`, { token: pub.owner.accessToken });
    expect(history.body.messages).toEqual([]);
  });

  test('content limits: 4000 code points pass, 4001 and blank are VALIDATION', async () => {
    const { roomId, socket } = await ownerAndRoom();
    expect((await send(socket, roomId, '😀'.repeat(4000))).ok).toBe(true);
    expect(await send(socket, roomId, 'a'.repeat(4001))).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await send(socket, roomId, ' \n ')).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
  });

  test('replies must point at a message of the same room', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const parent = okMessage(await send(socket, roomId, 'parent'));
    const reply = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'child', replyTo: parent.id });
    expect(reply).toMatchObject({ ok: true, message: { replyTo: parent.id, seq: 2 } });
    const dangling = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'child', replyTo: randomUUID() });
    expect(dangling).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // The rejected reply consumed no seq.
    expect(okMessage(await send(socket, roomId, 'next')).seq).toBe(3);
  });

  test('history pages ascending with exclusive cursors, caps the limit, and answers newest first page', async () => {
    const { owner, roomId, socket } = await ownerAndRoom();
    for (let i = 1; i <= 120; i++) okMessage(await send(socket, roomId, `m${i}`));
    const get = (q: string) => http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages${q}`, { token: owner.accessToken });
    const newest = await get('');
    expect(newest.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
    expect(newest.body.hasMore).toBe(true);
    const older = await get('?before=71&limit=30');
    expect(older.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 41 + i));
    const capped = await get('?after=0&limit=1000');
    expect(capped.body.messages).toHaveLength(100);
    expect(capped.body.messages[0]!.seq).toBe(1);
    expect(capped.body.hasMore).toBe(true);
    const tail = await get('?after=100');
    expect(tail.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
    expect(tail.body.hasMore).toBe(false);
    const between = await get('?after=10&before=14');
    expect(between.body.messages.map((m) => m.seq)).toEqual([11, 12, 13]);
    expect((await get('?limit=abc')).status).toBe(400);
  });

  test('sync pages 50 per room from the delivered cursor, or from afterSeq', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    for (let i = 1; i <= 120; i++) okMessage(await send(socket, roomId, `m${i}`));
    const first = await bob.socket.emitWithAck('sync', {});
    if (!first.ok) throw new Error('sync failed');
    const page = first.rooms.find((r) => r.roomId === roomId)!;
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(page).toMatchObject({ hasMore: true, lastSeq: 120 });
    const seen: number[] = [...page.messages.map((m) => m.seq)];
    let after = 50;
    for (let guard = 0; guard < 5; guard++) {
      const next = await bob.socket.emitWithAck('sync', { rooms: [{ roomId, afterSeq: after }], limit: 500 });
      if (!next.ok) throw new Error('sync failed');
      const r = next.rooms[0]!;
      seen.push(...r.messages.map((m) => m.seq));
      after = r.messages.at(-1)?.seq ?? after;
      if (!r.hasMore) break;
    }
    expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    // The delivered cursor moves the default starting point.
    expect(await bob.socket.emitWithAck('message:delivered', { roomId, seq: 100 })).toEqual({ ok: true });
    const fromCursor = await bob.socket.emitWithAck('sync', { rooms: [{ roomId }] });
    expect(fromCursor.ok && fromCursor.rooms[0]!.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
  });

  test('sync naming a room the caller is not in fails the whole call', async () => {
    const mine = await ownerAndRoom();
    const theirs = await ownerAndRoom('private');
    const res = await mine.socket.emitWithAck('sync', { rooms: [{ roomId: mine.roomId }, { roomId: theirs.roomId }] });
    expect(res).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  test('edit and delete: only the sender edits, a delete leaves a tombstone that keeps its seq', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    const m = okMessage(await send(socket, roomId, 'frist'));
    expect(await bob.socket.emitWithAck('message:edit', { id: m.id, content: 'hacked' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const updated = nextEvent(bob.socket, 'message:updated');
    const edit = await socket.emitWithAck('message:edit', { id: m.id, content: 'first' });
    expect(edit).toMatchObject({ ok: true, message: { id: m.id, seq: m.seq, content: 'first' } });
    expect((await updated).editedAt).toBeDefined();
    expect(await bob.socket.emitWithAck('reaction:add', { messageId: m.id, emoji: '👍' })).toEqual({ ok: true });
    expect(await bob.socket.emitWithAck('message:delete', { id: m.id })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const tombstone = nextEvent(bob.socket, 'message:updated', (u) => u.deleted === true);
    expect(await socket.emitWithAck('message:delete', { id: m.id })).toEqual({ ok: true });
    expect(await tombstone).toMatchObject({ id: m.id, seq: m.seq, content: '', deleted: true });
    const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: bob.user.accessToken });
    expect(history.body.messages).toEqual([expect.objectContaining({ id: m.id, seq: 1, content: '', deleted: true })]);
    expect(history.body.messages[0]!.reactions).toBeUndefined();
    expect(await socket.emitWithAck('message:edit', { id: m.id, content: 'again' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  test('reactions are summarised per emoji and broadcast', async () => {
    const { owner, roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    const m = okMessage(await send(socket, roomId, 'react to me'));
    const updates = collect(socket, 'reaction:updated');
    expect(await bob.socket.emitWithAck('reaction:add', { messageId: m.id, emoji: '🎉' })).toEqual({ ok: true });
    expect(await socket.emitWithAck('reaction:add', { messageId: m.id, emoji: '🎉' })).toEqual({ ok: true });
    const both = nextEvent(socket, 'reaction:updated', (u) => u.reactions[0]?.count === 1 && u.reactions[0].userIds[0] === owner.user.id);
    expect(await bob.socket.emitWithAck('reaction:remove', { messageId: m.id, emoji: '🎉' })).toEqual({ ok: true });
    expect(await both).toEqual({ roomId, messageId: m.id, reactions: [{ emoji: '🎉', count: 1, userIds: [owner.user.id] }] });
    expect(updates.some((u) => u.reactions[0]?.count === 2)).toBe(true);
    const history = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: bob.user.accessToken });
    expect(history.body.messages[0]!.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [owner.user.id] }]);
    expect(await bob.socket.emitWithAck('reaction:add', { messageId: randomUUID(), emoji: '🎉' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  test('receipts: cursors only move forward, read implies delivered, beyond lastSeq is VALIDATION; the member list shows them', async () => {
    const { owner, roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    for (let i = 0; i < 5; i++) okMessage(await send(socket, roomId, `m${i}`));
    const bobs = (e: Receipts) => e.receipts.find((r) => r.userId === bob.user.user.id);
    const receipt = nextEvent(socket, 'receipts', (e) => bobs(e)?.readSeq === 3);
    expect(await bob.socket.emitWithAck('message:read', { roomId, seq: 3 })).toEqual({ ok: true });
    const first = await receipt;
    expect(first.roomId).toBe(roomId);
    expect(bobs(first)).toEqual({ userId: bob.user.user.id, deliveredSeq: 3, readSeq: 3 });
    const later = nextEvent(socket, 'receipts', (e) => bobs(e) !== undefined);
    expect(await bob.socket.emitWithAck('message:delivered', { roomId, seq: 2 })).toEqual({ ok: true });
    expect(await bob.socket.emitWithAck('message:delivered', { roomId, seq: 5 })).toEqual({ ok: true });
    const second = await later;
    expect(second.roomId).toBe(roomId);
    expect(bobs(second)).toEqual({ userId: bob.user.user.id, deliveredSeq: 5, readSeq: 3 });
    expect(await bob.socket.emitWithAck('message:read', { roomId, seq: 6 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    const rooms = await http<{ rooms: { id: string; readSeq: number; deliveredSeq: number; unread: number }[] }>(node.url, 'GET', '/api/rooms', {
      token: bob.user.accessToken,
    });
    expect(rooms.body.rooms.find((r) => r.id === roomId)).toMatchObject({ readSeq: 3, deliveredSeq: 5, unread: 2 });
    // The member list carries every member's cursors as stored: a client that loads it (after a reload) knows
    // who has read what before anyone's next receipt. The owner's own messages moved none of the owner's.
    const listed = await http<MembersResponse>(node.url, 'GET', `/api/rooms/${roomId}/members`, { token: bob.user.accessToken });
    const cursors = Object.fromEntries(listed.body.members.map((m) => [m.userId, [m.deliveredSeq, m.readSeq]]));
    expect(cursors).toEqual({ [owner.user.id]: [0, 0], [bob.user.user.id]: [5, 3] });
  });

  test("own messages do not move the sender's cursors and never count as unread; the sender's read receipt does", async () => {
    const { roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    okMessage(await send(socket, roomId, 'from the owner'));
    okMessage(await send(bob.socket, roomId, 'bob 1'));
    expect(okMessage(await send(bob.socket, roomId, 'bob 2')).seq).toBe(3);
    type Rooms = { rooms: { id: string; lastSeq: number; readSeq: number; deliveredSeq: number; unread: number }[] };
    const bobsRoom = async () => (await http<Rooms>(node.url, 'GET', '/api/rooms', { token: bob.user.accessToken })).body.rooms.find((r) => r.id === roomId);
    expect(await bobsRoom()).toMatchObject({ lastSeq: 3, readSeq: 0, deliveredSeq: 0, unread: 1 });
    expect(await bob.socket.emitWithAck('message:read', { roomId, seq: 3 })).toEqual({ ok: true });
    expect(await bobsRoom()).toMatchObject({ lastSeq: 3, readSeq: 3, deliveredSeq: 3, unread: 0 });
  });

  test('receipts without an acknowledgement (fire and forget) move cursors the same; other events without one are ignored', async () => {
    const { roomId, socket } = await ownerAndRoom();
    const bob = await member(roomId);
    for (let i = 0; i < 3; i++) okMessage(await send(socket, roomId, `m${i}`));
    const bobs = (e: Receipts) => e.receipts.find((r) => r.userId === bob.user.user.id);
    const receipt = nextEvent(socket, 'receipts', (e) => bobs(e)?.deliveredSeq === 2);
    bob.socket.emit('message:delivered', { roomId, seq: 2 });
    expect(bobs(await receipt)).toEqual({ userId: bob.user.user.id, deliveredSeq: 2, readSeq: 0 });
    // A send must carry its acknowledgement: without one it is ignored. Bob's events are handled in order,
    // so had it been taken, his next send would be seq 5.
    (bob.socket.emit as (event: string, payload: unknown) => void)('message:send', { id: randomUUID(), roomId, content: 'no ack' });
    expect(okMessage(await send(bob.socket, roomId, 'after')).seq).toBe(4);
  });

  test('search finds messages only in rooms the caller belongs to', async () => {
    const mine = await ownerAndRoom();
    const theirs = await ownerAndRoom();
    okMessage(await send(mine.socket, mine.roomId, 'the quick brown fox'));
    okMessage(await send(theirs.socket, theirs.roomId, 'the quick brown fox secret'));
    const res = await http<{ results: { message: Message; highlight: string }[] }>(node.url, 'GET', '/api/search?q=fox', { token: mine.owner.accessToken });
    expect(res.body.results.map((r) => r.message.roomId)).toEqual([mine.roomId]);
    expect(res.body.results[0]!.highlight).toContain('fox');
    const forbidden = await http(node.url, 'GET', `/api/search?q=fox&roomId=${theirs.roomId}`, { token: mine.owner.accessToken });
    expect(forbidden.status).toBe(403);
  });
});
