// A membership change or a sign-out made through one node while the user's socket is in its handshake on
// another: the socket ends its handshake in step with the database (socket/handshaking-sockets.ts). Socket.IO
// applies a cluster-wide socketsJoin/socketsLeave/disconnectSockets to connected sockets only, so before this
// such a socket kept a room it had left (or missed one it had joined) until its next connection.
import { randomUUID } from 'node:crypto';
import { roomChannel, type Hello } from '@chat/protocol';
import { testServices } from '@chat/testkit';
import { io } from 'socket.io-client';
import type { ChatSocket } from '../src/socket/types';
import { createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { startHoldingProxy, type HoldingProxy } from './support/holding-proxy';
import { useDataHome, useNode, type NodeFixture } from './support/node-fixture';

/**
 * Holds the user's next handshake on the node after all its steps (its rooms read and joined), until
 * `release()`; `entered` resolves with the node's socket once it is held.
 */
function holdHandshake(node: NodeFixture, userId: string): { entered: Promise<ChatSocket>; release: () => void } {
  let enter!: (socket: ChatSocket) => void;
  const entered = new Promise<ChatSocket>((resolve) => (enter = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let armed = true;
  node.app.socketEvents.onConnecting(async (socket) => {
    if (!armed || socket.data.userId !== userId) return;
    armed = false;
    enter(socket);
    await gate;
  });
  return { entered, release };
}

/** The session id in a refresh token (`<sessionId>.<generation>.<mac>`). */
const sessionOf = (user: TestUser) => user.refreshToken.split('.')[0]!;

describe.each(['sharded', 'classic'])('membership changes during a handshake, %s Redis adapter', (adapter) => {
  const home = useDataHome('postgres');
  let proxy: HoldingProxy | undefined;
  home.onDispose(() => proxy?.close());
  beforeAll(async () => {
    const config = home.config();
    if (config.database.kind !== 'postgres') throw new Error('postgres expected');
    proxy = await startHoldingProxy(config.database.primaryUrl);
  });
  const env = { REDIS_URL: testServices().redisUrl, SOCKET_ADAPTER: adapter };
  // Node a reaches its primary through the proxy, so a test can hold what it reads; node b directly.
  const a = useNode(home, {
    env,
    adjust: (config) => (config.database.kind === 'postgres' ? { ...config, database: { ...config.database, primaryUrl: proxy!.urlFor(config.database.primaryUrl) } } : config),
  });
  const b = useNode(home, { env });

  const inRoom = (socketId: string, roomId: string) => a.app.io.of('/').sockets.get(socketId)?.rooms.has(roomChannel(roomId));

  test('a room joined through another node while the socket is held in its handshake is live on it when the handshake ends', async () => {
    const host = await registerUser(a, 'host');
    const erin = await registerUser(a, 'erin');
    const roomId = await createRoom(a, host);
    const ch = await a.connect(host.accessToken);
    const held = holdHandshake(a, erin.user.id);
    const { socket, hellos, second } = connectKeepingHellos(erin);
    try {
      await held.entered;
      // The join goes through node b; node a has applied it once its host hears of it (published after the join).
      const heard = nextEvent(ch.socket, 'member:joined', (e) => e.member.userId === erin.user.id);
      await joinRoom(b, erin, roomId);
      await heard;
      held.release();
      // The first hello is what the handshake read; the room comes with the second (its room:joined reached no
      // socket: erin's was not connected), so her client learns of it without waiting for a message.
      expect((await second).rooms).toEqual([{ roomId, lastSeq: 0 }]);
      expect(hellos[0]!.rooms).toEqual([]);
      expect(inRoom(socket.id!, roomId)).toBe(true);
      const live = nextEvent(socket, 'message:new', (m) => m.roomId === roomId);
      expect((await ch.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'to erin' })).ok).toBe(true);
      expect(await live).toMatchObject({ content: 'to erin' });
    } finally {
      socket.close();
    }
  });

  test('a room left through another node while the socket is held in its handshake is left on it: it may not send there', async () => {
    const host = await registerUser(a, 'host');
    const gil = await registerUser(a, 'gil');
    const roomId = await createRoom(a, host);
    await joinRoom(a, gil, roomId);
    const ch = await a.connect(host.accessToken);
    const held = holdHandshake(a, gil.user.id);
    const connecting = a.connect(gil.accessToken);
    const serverSocket = await held.entered;
    // Its rooms were read before the leave: the held socket is in the room's channel.
    expect(serverSocket.rooms.has(roomChannel(roomId))).toBe(true);
    const heard = nextEvent(ch.socket, 'member:left', (e) => e.userId === gil.user.id);
    expect((await http(b.url, 'POST', `/api/rooms/${roomId}/leave`, { token: gil.accessToken })).status).toBe(204);
    await heard;
    held.release();
    const { socket, hello } = await connecting;
    expect(hello.rooms.map((r) => r.roomId)).not.toContain(roomId);
    expect(inRoom(socket.id!, roomId)).toBe(false);
    expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'gone' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  test('a room left through another node after the handshake read the rooms, before the read arrived, is left when the handshake ends', async () => {
    const host = await registerUser(a, 'host');
    const hal = await registerUser(a, 'hal');
    const roomId = await createRoom(a, host);
    await joinRoom(a, hal, roomId);
    const ch = await a.connect(host.accessToken);
    // Node a's handshake read of hal's session runs, and its answer waits in the proxy: the read is taken.
    proxy!.hold();
    const connecting = a.connect(hal.accessToken);
    try {
      await proxy!.holding(sessionOf(hal));
      const heard = nextEvent(ch.socket, 'member:left', (e) => e.userId === hal.user.id);
      expect((await http(b.url, 'POST', `/api/rooms/${roomId}/leave`, { token: hal.accessToken })).status).toBe(204);
      await heard;
    } finally {
      proxy!.release();
    }
    // The read arrives after the leave was applied: it still lists the room, and the socket joins its channel
    // from it; the leave recorded during the handshake is made again after that, and `hello` does not list it.
    const { socket, hello } = await connecting;
    expect(hello.rooms.map((r) => r.roomId)).not.toContain(roomId);
    expect(inRoom(socket.id!, roomId)).toBe(false);
    expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'gone' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  /** A raw socket of `user` on node a that keeps every `hello` it gets; `second` resolves with the second one. */
  function connectKeepingHellos(user: TestUser): { socket: RawSocket; hellos: Hello[]; second: Promise<Hello> } {
    const socket: RawSocket = io(a.url, { auth: { token: user.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
    const hellos: Hello[] = [];
    const second = new Promise<Hello>((resolve) =>
      socket.on('hello', (hello) => {
        if (hellos.push(hello) === 2) resolve(hello);
      }),
    );
    return { socket, hellos, second };
  }

  test("a message sent while the socket is held in its handshake (rooms read and joined) comes with a second hello's last seq", async () => {
    const host = await registerUser(a, 'host');
    const ivy = await registerUser(a, 'ivy');
    const roomId = await createRoom(a, host);
    await joinRoom(a, ivy, roomId);
    const ch = await a.connect(host.accessToken);
    const held = holdHandshake(a, ivy.user.id);
    const { socket, hellos, second } = connectKeepingHellos(ivy);
    try {
      await held.entered;
      // Committed after ivy's rooms were read; its broadcast skips her socket, which is not connected yet.
      const ack = await ch.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'while ivy connects' });
      if (!ack.ok) throw new Error(JSON.stringify(ack.error));
      held.release();
      // The first hello says what the handshake read; the second, read after the connect, covers the message, so a
      // client whose cursor was the read's sees it is behind and syncs.
      expect((await second).rooms).toEqual([{ roomId, lastSeq: ack.message.seq }]);
      expect(hellos[0]!.rooms).toEqual([{ roomId, lastSeq: ack.message.seq - 1 }]);
    } finally {
      socket.close();
    }
  });

  test("a message committed through another node after the handshake read the rooms, before the read arrived, comes with a second hello's last seq", async () => {
    const host = await registerUser(a, 'host');
    const jo = await registerUser(a, 'jo');
    const roomId = await createRoom(a, host);
    await joinRoom(a, jo, roomId);
    const ch = await b.connect(host.accessToken);
    // Node a's read of jo's session and rooms runs, and its answer waits in the proxy: the message commits after it.
    proxy!.hold();
    const { socket, hellos, second } = connectKeepingHellos(jo);
    try {
      let seq: number;
      try {
        await proxy!.holding(sessionOf(jo));
        const ack = await ch.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'while jo connects' });
        if (!ack.ok) throw new Error(JSON.stringify(ack.error));
        seq = ack.message.seq;
      } finally {
        proxy!.release();
      }
      expect((await second).rooms).toEqual([{ roomId, lastSeq: seq }]);
      expect(hellos[0]!.rooms).toEqual([{ roomId, lastSeq: seq - 1 }]);
    } finally {
      socket.close();
    }
  });

  test('a sign-out through another node while the socket is held in its handshake closes its connection; it never connects', async () => {
    await signOutDuringHandshake(a, b);
  });
});

/**
 * A user's socket held in its handshake on `on` while the session signs out through `through`: the held socket's
 * connection is closed as soon as `on` handles the sign-out (the same moment a connected socket of the session is
 * disconnected), not at Socket.IO's 45 s connect timeout, which would close it too; its client never gets `hello`.
 */
async function signOutDuringHandshake(on: NodeFixture, through: NodeFixture): Promise<void> {
  const ivy = await registerUser(on, 'ivy');
  const first = await on.connect(ivy.accessToken);
  const held = holdHandshake(on, ivy.user.id);
  const client: RawSocket = io(on.url, { auth: { token: ivy.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    const clientSide = new Promise<string>((resolve) => {
      client.once('hello', () => resolve('hello'));
      client.once('connect_error', (err) => resolve(`connect_error ${err.message}`));
      client.once('disconnect', (reason) => resolve(reason));
    });
    const serverSocket = await held.entered;
    const closed = new Promise<string>((resolve) => serverSocket.conn.once('close', resolve));
    const firstGone = new Promise<string>((resolve) => first.socket.once('disconnect', resolve));
    expect((await http(through.url, 'POST', '/api/auth/logout', { body: { refreshToken: ivy.refreshToken } })).status).toBe(204);
    expect(await firstGone).toBe('io server disconnect');
    expect(serverSocket.conn.readyState).not.toBe('open');
    expect(await closed).toBe('forced close');
    held.release();
    expect(await clientSide).toBe('transport close');
    expect(on.app.io.of('/').sockets.has(serverSocket.id)).toBe(false);
  } finally {
    client.close();
  }
}

describe('membership changes during a handshake, one node without Redis (the in-memory adapter)', () => {
  const node = useNode('postgres');

  test('a sign-out through the same node while the socket is held in its handshake closes its connection; it never connects', async () => {
    await signOutDuringHandshake(node, node);
  });
});
