// The raw WebSocket gateway (issue 11, item 1): JSON frames on /gateway, on two nodes joined by Redis, with a
// Socket.IO client on the other node in the same room. Everything a Socket.IO client has, a gateway client
// has: hello, acknowledgements, messages both ways, receipts and typing, sync after a reconnect, the same
// refusals (bad token, admission, event budgets) and the protocol's errors for frames it cannot carry.
import { randomUUID } from 'node:crypto';
import type { Hello, Message, SyncRoomResult } from '@chat/protocol';
import { testServices } from '@chat/testkit';
import WebSocket from 'ws';
import { createRoom, joinRoom, nextEvent, registerUser, type TestNode } from './support/harness';
import { useDataHome, useNode } from './support/node-fixture';

interface Frame {
  id?: string | number;
  event?: string;
  data?: unknown;
  ack?: { ok: boolean; [key: string]: unknown };
  error?: { code: string; message: string; retryAfterMs?: number };
}

/** A gateway client as a bot would write one: a WebSocket, JSON frames, a request id per acknowledged frame. */
class GatewayClient {
  readonly frames: Frame[] = [];
  private readonly waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      this.frames.push(frame);
      for (const w of this.waiters.splice(0)) {
        if (w.match(frame)) w.resolve(frame);
        else this.waiters.push(w);
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(node: TestNode, token: string | undefined, { viaQuery = false, source }: { viaQuery?: boolean; source?: string } = {}): Promise<GatewayClient> {
    const url = `${node.url.replace(/^http/, 'ws')}/gateway${viaQuery && token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url, { headers: !viaQuery && token ? { authorization: `Bearer ${token}` } : {}, ...(source ? { localAddress: source } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new GatewayClient(ws)));
      ws.once('error', reject);
    });
  }

  /** The next frame that matches (one already received counts). */
  next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  event<T>(name: string, match: (data: T) => boolean = () => true): Promise<T> {
    return this.next((f) => f.event === name && match(f.data as T)).then((f) => f.data as T);
  }

  /** Sends `event` with a fresh request id and resolves with its answer frame (ack or error). */
  request(event: string, data: unknown): Promise<Frame> {
    const id = `r${this.nextId++}`;
    this.ws.send(JSON.stringify({ id, event, data }));
    return this.next((f) => f.id === id);
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  close(): void {
    this.ws.close();
  }
}

describe('raw WebSocket gateway across two nodes', () => {
  const home = useDataHome('postgres');
  const env = { REDIS_URL: testServices().redisUrl, PRESENCE_HEARTBEAT_MS: '200' };
  const a = useNode(home, { env });
  const b = useNode(home, { env });

  test('hello, then messages, receipts and typing cross between a gateway client and a Socket.IO client on another node', async () => {
    const bot = await registerUser(a, 'bot');
    const human = await registerUser(b, 'human');
    const roomId = await createRoom(a, bot);
    await joinRoom(b, human, roomId);

    const gw = await GatewayClient.open(a, bot.accessToken);
    const hello = await gw.event<Hello>('hello');
    expect(hello).toMatchObject({ userId: bot.user.id, protocol: 1, node: a.app.config.nodeId, rooms: [{ roomId, lastSeq: 0 }] });
    const sio = await b.connect(human.accessToken);
    expect(sio.hello.node).not.toBe(hello.node);

    // Gateway → Socket.IO, acknowledged after the commit with the stored message.
    const atHuman = nextEvent(sio.socket, 'message:new', (m) => m.content === 'hello from the gateway');
    const sent = await gw.request('message:send', { id: randomUUID(), roomId, content: 'hello from the gateway' });
    expect(sent.ack).toMatchObject({ ok: true, message: { roomId, seq: 1, senderId: bot.user.id, content: 'hello from the gateway' } });
    expect(await atHuman).toMatchObject({ seq: 1, senderId: bot.user.id });

    // Socket.IO → gateway.
    const atBot = gw.event<Message>('message:new', (m) => m.content === 'hello from socket.io');
    expect((await sio.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'hello from socket.io' })).ok).toBe(true);
    expect(await atBot).toMatchObject({ roomId, seq: 2, senderId: human.user.id });

    // Typing both ways (fire and forget from the gateway: no id, no answer).
    const typingAtHuman = nextEvent(sio.socket, 'typing', (t) => t.userId === bot.user.id);
    gw.sendRaw(JSON.stringify({ event: 'typing', data: { roomId, typing: true } }));
    expect(await typingAtHuman).toEqual({ roomId, userId: bot.user.id, typing: true });
    const typingAtBot = gw.event<{ userId: string }>('typing', (t) => t.userId === human.user.id);
    await sio.socket.emitWithAck('typing', { roomId, typing: true });
    expect(await typingAtBot).toEqual({ roomId, userId: human.user.id, typing: true });

    // Receipts: the gateway reads the human's message; the human sees the bot's cursor, and the other way.
    const receiptAtHuman = nextEvent(sio.socket, 'receipts', (e) => e.receipts.some((r) => r.userId === bot.user.id && r.readSeq === 2));
    expect((await gw.request('message:read', { roomId, seq: 2 })).ack).toEqual({ ok: true });
    expect(await receiptAtHuman).toMatchObject({ roomId });
    const receiptAtBot = gw.event<{ receipts: { userId: string; readSeq: number }[] }>('receipts', (e) => e.receipts.some((r) => r.userId === human.user.id && r.readSeq === 1));
    expect(await sio.socket.emitWithAck('message:read', { roomId, seq: 1 })).toEqual({ ok: true });
    await receiptAtBot;

    // The protocol's refusals come back in the ack, as for Socket.IO: a non-member's room is NOT_FOUND.
    const elsewhere = await gw.request('message:send', { id: randomUUID(), roomId: randomUUID(), content: 'nowhere' });
    expect(elsewhere.ack).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const invalid = await gw.request('message:send', { id: 'not-a-uuid', roomId, content: '' });
    expect(invalid.ack).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });

    gw.close();
    sio.socket.close();
  });

  test('frames the gateway cannot carry are answered VALIDATION and the connection stays open', async () => {
    const user = await registerUser(a, 'frames');
    const gw = await GatewayClient.open(a, user.accessToken, { viaQuery: true });
    await gw.event('hello');
    gw.sendRaw('not json');
    expect((await gw.next((f) => f.error !== undefined && f.id === undefined)).error).toMatchObject({ code: 'VALIDATION' });
    expect(await gw.request('no:such:event', {})).toMatchObject({ error: { code: 'VALIDATION', message: 'unknown event: no:such:event' } });
    gw.sendRaw(JSON.stringify({ event: 'message:send', data: {} }));
    expect((await gw.next((f) => f.error?.message.includes('give the frame an "id"') === true)).error?.code).toBe('VALIDATION');
    // Still usable.
    expect((await gw.request('presence:get', { userIds: [user.user.id] })).ack).toMatchObject({ ok: true });
    gw.close();
  });

  test('a bad token is refused like a Socket.IO handshake: an error frame, then close 4401', async () => {
    const gw = await GatewayClient.open(a, 'not-a-token');
    expect(await gw.event('error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await gw.closed).toEqual({ code: 4401, reason: 'UNAUTHORIZED' });
    const none = await GatewayClient.open(b, undefined);
    expect((await none.closed).code).toBe(4401);
  });

  test('after a reconnect, sync returns exactly what was missed: no loss, no duplicates', async () => {
    const bot = await registerUser(a, 'syncbot');
    const human = await registerUser(b, 'synchuman');
    const roomId = await createRoom(b, human);
    await joinRoom(a, bot, roomId);
    const sio = await b.connect(human.accessToken);
    const first = await GatewayClient.open(a, bot.accessToken);
    await first.event('hello');
    expect((await sio.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'before' })).ok).toBe(true);
    await first.event<Message>('message:new', (m) => m.content === 'before');
    first.close();
    await first.closed;

    for (const content of ['missed 1', 'missed 2', 'missed 3']) {
      expect((await sio.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content })).ok).toBe(true);
    }
    const again = await GatewayClient.open(b, bot.accessToken);
    const hello = await again.event<Hello>('hello');
    expect(hello.rooms).toEqual([{ roomId, lastSeq: 4 }]);
    const synced = await again.request('sync', { rooms: [{ roomId, afterSeq: 1 }] });
    const rooms = (synced.ack as unknown as { ok: true; rooms: SyncRoomResult[] }).rooms;
    expect(rooms.map((r) => [r.roomId, r.messages.map((m) => [m.seq, m.content]), r.hasMore])).toEqual([
      [roomId, [[2, 'missed 1'], [3, 'missed 2'], [4, 'missed 3']], false],
    ]);
    // A send retried with the same id (the answer was lost) is stored once.
    const id = randomUUID();
    const once = await again.request('message:send', { id, roomId, content: 'retried' });
    const twice = await again.request('message:send', { id, roomId, content: 'retried' });
    const seqOf = (f: Frame) => (f.ack as unknown as { message: Message }).message.seq;
    expect([seqOf(once), seqOf(twice)]).toEqual([5, 5]);
    again.close();
    sio.socket.close();
  });
});

describe('gateway budgets and admission', () => {
  const home = useDataHome('postgres');
  // One new connection per address per second; two sends per second per user.
  const node = useNode(home, { env: { ADMISSION_IP_PER_SECOND: '1', ADMISSION_WINDOW_SECONDS: '1', MESSAGES_PER_SECOND: '2' } });

  test('handshakes over the address budget are refused RATE_LIMITED (close 4429), sends over budget in the ack', async () => {
    const user = await registerUser(node, 'budget');
    const roomId = await createRoom(node, user);
    // The gateway client's own address counts (127.0.0.1 bound explicitly), not the node's loopback bridge.
    const first = await GatewayClient.open(node, user.accessToken, { source: '127.0.0.1' });
    await first.event('hello');
    const second = await GatewayClient.open(node, user.accessToken, { source: '127.0.0.1' });
    expect(await second.event('error')).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect((await second.closed).code).toBe(4429);
    // In the same second another address is admitted: each gateway client is counted by its own address,
    // not by the node's loopback connection that carries it.
    const elsewhere = await GatewayClient.open(node, user.accessToken, { source: '127.0.0.9' });
    expect(await elsewhere.event<Hello>('hello')).toMatchObject({ userId: user.user.id });
    elsewhere.close();

    const acks = await Promise.all([1, 2, 3, 4].map((i) => first.request('message:send', { id: randomUUID(), roomId, content: `burst ${i}` })));
    const codes = acks.map((f) => (f.ack!.ok ? 'ok' : (f.ack as unknown as { error: { code: string } }).error.code));
    expect(codes.filter((c) => c === 'ok').length).toBe(2);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBe(2);
    first.close();
  });
});
