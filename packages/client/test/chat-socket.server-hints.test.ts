import { ChatSocket, HttpApi, MemoryOutboxStorage, Outbox, Session, type ConnectionStatus } from '@chat/client';
import type { Message } from '@chat/protocol';
import { spawnNode, type StandaloneNode } from '@chat/testkit';

/**
 * The server's hints, from a real node process: a handshake refused by admission control (RATE_LIMITED with
 * retryAfterMs) and a graceful shutdown (`server:draining` with reconnectInMs, then the transport closed).
 */

const suffix = () => Math.random().toString(36).slice(2, 8);

async function user(node: StandaloneNode, name: string) {
  const anon = new HttpApi({ baseUrl: node.url });
  const session = new Session({ api: anon });
  await session.register({ username: `${name}_${suffix()}`, password: 'correct horse battery' });
  return { session, api: anon.withAuth(session) };
}

/** Resolves with the first status for which `check` holds (current one included); rejects after `ms`. */
function statusWhere(socket: ChatSocket, check: (s: ConnectionStatus) => boolean, ms: number, what: string): Promise<ConnectionStatus> {
  return new Promise((resolve, reject) => {
    if (check(socket.status)) return resolve(socket.status);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}; status ${JSON.stringify(socket.status)}`));
    }, ms);
    const off = socket.on('status', (s) => {
      if (!check(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

describe('ChatSocket and the server’s hints', () => {
  let limited: StandaloneNode;
  let draining: StandaloneNode;
  beforeAll(async () => {
    [limited, draining] = await Promise.all([
      // Two handshakes per address per 20-second window (fixed windows: the three handshakes below must not
      // straddle a window's end, which a 4-second window allowed on a loaded machine, and once a 10-second one).
      spawnNode({ env: { ADMISSION_WINDOW_SECONDS: '20', ADMISSION_IP_PER_SECOND: '0.1', ADMISSION_NODE_PER_SECOND: '1000' } }),
      spawnNode({ env: { DRAIN_WINDOW_MS: '1500' } }),
    ]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([limited?.dispose(), draining?.dispose()]);
  });

  test('a handshake refused as RATE_LIMITED waits at least retryAfterMs (a jittered hint), then connects by itself', async () => {
    const u = await user(limited, 'limited');
    // Sockets one after another until one is refused: two handshakes fit in a window, but the windows are
    // fixed, so the first ones may straddle a window's end (CI saw a third one connect at once). Handshakes
    // take far less than a window, so at most one end falls among them and the fifth is refused at the latest.
    const sockets: ChatSocket[] = [];
    let statuses: ConnectionStatus[] = [];
    let refused: ConnectionStatus | undefined;
    let subject: ChatSocket | undefined;
    try {
      while (!subject && sockets.length < 5) {
        const socket = new ChatSocket({ url: limited.url, auth: u.session, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200 });
        const seen: ConnectionStatus[] = [];
        socket.on('status', (s) => seen.push(s));
        sockets.push(socket);
        const first = await statusWhere(
          socket,
          (s) => s.state === 'connected' || (s.lastError?.code === 'RATE_LIMITED' && s.retryAt !== undefined),
          30_000,
          'connected or refused RATE_LIMITED',
        );
        if (first.state !== 'connected') [subject, refused, statuses] = [socket, first, seen];
      }
      expect(sockets.length).toBeGreaterThanOrEqual(3); // two fit in a window
      expect(refused?.lastError?.code).toBe('RATE_LIMITED');
      // Refused with a hint, retried no earlier than the hint says (its own backoff window here is at most
      // 200 ms, far below the hint).
      expect(refused!.lastError!.retryAfterMs).toBeGreaterThan(0);
      expect(refused!.retryDelayMs).toBeGreaterThanOrEqual(refused!.lastError!.retryAfterMs!);
      // The hint is the rest of the window plus up to one more window (≤ 40 s).
      await statusWhere(subject!, (s) => s.state === 'connected', 50_000, 'connected after the window refilled');
      // Every refusal's wait honoured its hint; none retried in a tight loop.
      const waits = statuses.filter((s) => s.lastError?.code === 'RATE_LIMITED' && s.retryDelayMs !== undefined);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      for (const w of waits) expect(w.retryDelayMs).toBeGreaterThanOrEqual(w.lastError!.retryAfterMs!);
    } finally {
      for (const s of sockets) s.close();
    }
  }, 180_000);

  test('server:draining: the socket moves at the announced moment, keeps sends in order, and resumes on the node that came back', async () => {
    const alice = await user(draining, 'alice');
    const bob = await user(draining, 'bob');
    const { room } = await alice.api.createRoom({ name: 'drain', type: 'public' });
    await bob.api.joinRoom(room.id);
    const a = new ChatSocket({ url: draining.url, auth: alice.session, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
    const b = new ChatSocket({ url: draining.url, auth: bob.session, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
    const outbox = new Outbox({ storage: new MemoryOutboxStorage(), send: (item) => a.sendMessage(item, { retries: 0 }) });
    a.on('status', () => outbox.setOnline(a.socket.connected));
    const got: Message[] = [];
    b.on('message', (m) => got.push(m));
    try {
      await Promise.all([a, b].map((s) => statusWhere(s, (x) => x.state === 'connected', 30_000, 'connected')));
      const stopping = draining.stop('SIGTERM');
      const drained = await statusWhere(a, (s) => s.state === 'draining', 30_000, 'draining');
      // The moment was announced by the node (within its 1.5 s window) and is shown as the next attempt.
      expect(drained.retryAt).toBeDefined();
      expect(drained.retryDelayMs).toBeLessThanOrEqual(1500);
      for (const text of ['during the drain 1', 'during the drain 2', 'during the drain 3']) outbox.enqueue(room.id, text);
      await stopping;
      await statusWhere(a, (s) => s.state === 'reconnecting', 30_000, 'reconnecting once the node is gone');
      await draining.start();
      await statusWhere(a, (s) => s.state === 'connected', 60_000, 'connected to the node that came back');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bob got ${JSON.stringify(got.map((m) => m.content))}`)), 60_000);
        const check = () => {
          if (got.length < 3 || outbox.list().length > 0) return;
          clearTimeout(timer);
          offB();
          offO();
          resolve();
        };
        const offB = b.on('message', check);
        const offO = outbox.on('change', check);
        check();
      });
      expect(got.map((m) => m.content)).toEqual(['during the drain 1', 'during the drain 2', 'during the drain 3']);
      expect(got.map((m) => m.seq)).toEqual([1, 2, 3]);
    } finally {
      outbox.close();
      a.close();
      b.close();
    }
  }, 180_000);
});
