import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitUntil } from '@chat/testkit';
import { isEngineResponseClose } from '../src/socket/handshake-release';
import { createRoom, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// A connected socket would keep its handshake for its whole life: the upgrade request (held by engine.io's
// socket and by the stand-in response engine.io makes for an upgrade, through a `close` listener on the TCP
// socket) and, in Socket.IO's `socket.handshake`, the headers, query, URL, `auth` payload with the access token
// and the connect time as a string. The server reads them while the socket connects and never after, so once
// connected they are dropped (socket/handshake-release.ts); the address and the issue time stay.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a connected socket on its node', () => {
  const node = useNode('pglite');

  test('keeps no header, query, URL or auth payload of its handshake; its address and issue time stay', async () => {
    const user = await registerUser(node);
    const { socket, hello } = await node.connect(user.accessToken, { extraHeaders: { 'x-handshake-probe': 'only-while-connecting' } });
    expect(hello.userId).toBe(user.user.id);

    const [server, ...others] = [...node.app.io.of('/').sockets.values()];
    expect(others).toHaveLength(0);
    expect(server!.data.userId).toBe(user.user.id);
    const { headers, query, auth, url, time, address, issued } = server!.handshake;
    expect({ headers, query, auth, url, time }).toEqual({ headers: {}, query: {}, auth: {}, url: '', time: '' });
    expect(JSON.stringify(server!.handshake)).not.toContain(user.accessToken);
    expect(JSON.stringify(server!.handshake)).not.toContain('only-while-connecting');
    expect(address).toMatch(/127\.0\.0\.1$/);
    expect(issued).toBeGreaterThan(Date.now() - 60_000);

    // The socket still works after the release: a room it creates reaches it live.
    const roomJoined = new Promise((resolve) => socket.once('room:joined', resolve));
    const roomId = await createRoom(node, user, 'public', 'after release');
    await expect(roomJoined).resolves.toMatchObject({ room: { id: roomId, name: 'after release' } });
  });

  test('the upgrade request is collected while the socket stays connected', async () => {
    const user = await registerUser(node);
    let request: WeakRef<object> | undefined;
    const engine = node.app.io.engine;
    const capture = (raw: { request: object }) => {
      request = new WeakRef(raw.request);
    };
    engine.on('connection', capture);
    const { socket } = await node.connect(user.accessToken).finally(() => engine.off('connection', capture));
    expect(request).toBeDefined();

    // Collected: nothing reaches the request any more (a WeakRef holds its target until the turn that made it ends).
    await waitUntil(
      async () => {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        return request!.deref() === undefined;
      },
      { description: 'the upgrade request collected', timeoutMs: 10_000 },
    );
    expect(socket.connected).toBe(true);
    expect([...node.app.io.of('/').sockets.values()].some((s) => s.data.userId === user.user.id)).toBe(true);
  });
});

// The listener is found by its source text: as engine.io ships it (the suite runs the sources) and as the
// server's esbuild bundle prints it (production and the cluster tests run the bundle).
test('engine.io upgrade-response close listener is recognised in its shipped and its bundled form only', () => {
  expect(isEngineResponseClose('() => this.emit("close")')).toBe(true);
  expect(isEngineResponseClose('()=>this.emit("close")')).toBe(true);
  expect(isEngineResponseClose('() => this.emit("end")')).toBe(false);
  expect(isEngineResponseClose('() => { this.emit("close"); other(); }')).toBe(false);
});
