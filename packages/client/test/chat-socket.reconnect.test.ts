import { ChatSocket, HttpApi, MemoryOutboxStorage, Outbox, Session, type ConnectionStatus } from '@chat/client';
import type { Message } from '@chat/protocol';
import { spawnNode, type StandaloneNode } from '@chat/testkit';

/**
 * The SDK against a real node process (embedded mode, as `pnpm start` runs it): crashes, refusals and
 * recovery as a user's browser meets them. Every wait is for an event or state, bounded by `within`.
 */

const suffix = () => Math.random().toString(36).slice(2, 8);

async function user(node: StandaloneNode, name: string) {
  const anon = new HttpApi({ baseUrl: node.url });
  const session = new Session({ api: anon });
  const { user: me } = await session.register({ username: `${name}_${suffix()}`, password: 'correct horse battery' });
  return { me, session, api: anon.withAuth(session), anon };
}

type Subscribe = (listener: () => void) => () => void;

/** Resolves when `check` holds, re-checked on every `event` of `socket` (and of `also`); rejects after `ms`. */
function within<T>(
  ms: number,
  socket: ChatSocket,
  events: ('message' | 'status' | 'synced')[],
  check: () => T | undefined,
  what: string,
  also: Subscribe[] = [],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
    const probe = () => {
      const v = check();
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what} (state ${socket.connectionState})`));
    }, ms);
    for (const e of events) offs.push(socket.on(e, probe));
    for (const subscribe of also) offs.push(subscribe(probe));
    probe();
  });
}

const connected = (s: ChatSocket) => within(60_000, s, ['status'], () => (s.connectionState === 'connected' ? true : undefined), 'connected');

describe('ChatSocket against a real node process', () => {
  let node: StandaloneNode;
  beforeAll(async () => {
    node = await spawnNode({ env: { MESSAGES_PER_SECOND: '1000' } });
  }, 120_000);
  afterAll(async () => {
    await node?.dispose();
  });

  test('a crashed node: reconnecting with a scheduled jittered retry, then messages written offline are delivered once, in order', async () => {
    const alice = await user(node, 'alice');
    const bob = await user(node, 'bob');
    const { room } = await alice.api.createRoom({ name: 'crash', type: 'public' });
    await bob.api.joinRoom(room.id);

    const a = new ChatSocket({ url: node.url, auth: alice.session, reconnectionDelay: 250, reconnectionDelayMax: 1000 });
    const b = new ChatSocket({ url: node.url, auth: bob.session, reconnectionDelay: 250, reconnectionDelayMax: 1000 });
    const statuses: ConnectionStatus[] = [];
    a.on('status', (s) => statuses.push(s));
    const got: Message[] = [];
    b.on('message', (m) => got.push(m));
    // Bound like the web app: sends wait for the connection, the outbox retries them itself.
    const outbox = new Outbox({ storage: new MemoryOutboxStorage(), send: (item) => a.sendMessage(item, { retries: 0 }) });
    a.on('connection', () => outbox.setOnline(a.socket.connected));
    try {
      await Promise.all([connected(a), connected(b)]);
      outbox.setOnline(true);
      for (const text of ['one', 'two', 'three']) outbox.enqueue(room.id, text);
      await within(30_000, b, ['message'], () => (got.length === 3 ? true : undefined), 'three live messages');

      await node.stop('SIGKILL');
      const lost = await within(30_000, a, ['status'], () => (a.status.state === 'reconnecting' && a.status.retryAt !== undefined ? a.status : undefined), 'a scheduled retry');
      // The delay is inside the full-jitter window of the first attempts, and the banner can count it down.
      expect(lost.retryDelayMs).toBeGreaterThanOrEqual(0);
      expect(lost.retryDelayMs).toBeLessThanOrEqual(1000);
      expect(lost.retryAt! - Date.now()).toBeLessThanOrEqual(1000);

      for (const text of ['offline 1', 'offline 2', 'offline 3', 'offline 4', 'offline 5']) outbox.enqueue(room.id, text);
      expect(outbox.list().filter((i) => i.content.startsWith('offline')).map((i) => i.state)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);

      await node.start();
      const outboxChanged: Subscribe = (cb) => outbox.on('change', cb);
      await within(60_000, b, ['message'], () => (got.length >= 8 && outbox.list().length === 0 ? true : undefined), 'eight messages at bob, outbox empty', [outboxChanged]);
      expect(got.map((m) => m.content)).toEqual(['one', 'two', 'three', 'offline 1', 'offline 2', 'offline 3', 'offline 4', 'offline 5']);
      expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const history = await bob.api.history(room.id, { after: 0 });
      expect(history.messages.map((m) => m.content)).toEqual(got.map((m) => m.content));
      // Several retries may have been needed while the node was starting; each one was scheduled and bounded.
      const waits = statuses.filter((s) => s.retryAt !== undefined);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      for (const w of waits) expect(w.retryDelayMs).toBeLessThanOrEqual(1000);
      expect(statuses.at(-1)).toEqual({ state: 'connected', attempt: 0 });
    } finally {
      outbox.close();
      a.close();
      b.close();
    }
  }, 180_000);

  test('after a refused handshake (UNAUTHORIZED) the token is refreshed and the socket connects by itself', async () => {
    const carol = await user(node, 'carol');
    const tokens = carol.session.getTokens()!;
    // An access token the server refuses, with a valid refresh token: like a laptop waking after an hour.
    const session = new Session({ api: carol.anon, tokens: { accessToken: 'expired.or.garbage', refreshToken: tokens.refreshToken } });
    const socket = new ChatSocket({ url: node.url, auth: session, reconnectionDelay: 100, reconnectionDelayMax: 500 });
    const statuses: ConnectionStatus[] = [];
    socket.on('status', (s) => statuses.push(s));
    try {
      await connected(socket);
      expect(session.getAccessToken()).not.toBe('expired.or.garbage');
      expect(statuses.some((s) => s.lastError?.code === 'UNAUTHORIZED')).toBe(true);
      expect(statuses.map((s) => s.state)).not.toContain('offline');
    } finally {
      socket.close();
    }
  });

  test('when the session cannot be renewed, the socket reports it and goes offline instead of retrying forever', async () => {
    const dave = await user(node, 'dave');
    const { refreshToken } = dave.session.getTokens()!;
    await dave.session.logout();
    const session = new Session({ api: dave.anon, tokens: { accessToken: 'garbage', refreshToken } });
    const socket = new ChatSocket({ url: node.url, auth: session, reconnectionDelay: 100, reconnectionDelayMax: 500 });
    const errors: string[] = [];
    socket.on('error', (e) => errors.push(e.code));
    try {
      await within(30_000, socket, ['status'], () => (errors.length > 0 && socket.connectionState === 'offline' ? true : undefined), 'offline after an error');
      expect(errors).toEqual(['UNAUTHORIZED']);
      expect(session.getTokens()).toBeUndefined();
    } finally {
      socket.close();
    }
  });

  test('a client that was away catches up through paged sync: 130 missed messages, in order, once', async () => {
    const erin = await user(node, 'erin');
    const frank = await user(node, 'frank');
    const { room } = await erin.api.createRoom({ name: 'backlog', type: 'public' });
    await frank.api.joinRoom(room.id);
    const e = new ChatSocket({ url: node.url, auth: erin.session });
    let f = new ChatSocket({ url: node.url, auth: frank.session });
    try {
      await Promise.all([connected(e), connected(f)]);
      await e.send(room.id, 'before').ack;
      await within(30_000, f, ['message'], () => (f.cursors()[room.id] === 1 ? true : undefined), 'first message');
      const cursors = f.cursors();
      f.close();
      for (let i = 1; i <= 130; i++) await e.send(room.id, `missed ${i}`).ack;
      f = new ChatSocket({ url: node.url, auth: frank.session, cursors });
      const got: Message[] = [];
      f.on('message', (m) => got.push(m));
      await within(60_000, f, ['message'], () => (got.length >= 130 ? true : undefined), '130 synced messages');
      expect(got.map((m) => m.content)).toEqual(Array.from({ length: 130 }, (_, i) => `missed ${i + 1}`));
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 130 }, (_, i) => i + 2));
    } finally {
      e.close();
      f.close();
    }
  });
});
