import { randomUUID } from 'node:crypto';
import { userChannel } from '@chat/protocol';
import { collect, createRoom, joinRoom, nextEvent, registerUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

describeOnEachBackend('typing and presence', {}, (node) => {
  async function pair() {
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const roomId = await createRoom(node, alice);
    await joinRoom(node, bob, roomId);
    const a = await node.connect(alice.accessToken);
    const b = await node.connect(bob.accessToken);
    return { alice, bob, roomId, a: a.socket, b: b.socket };
  }

  test('typing: true is coalesced to one broadcast per second, false is always forwarded', async () => {
    const { alice, roomId, a, b } = await pair();
    const seen = collect(b, 'typing');
    for (let i = 0; i < 5; i++) expect(await a.emitWithAck('typing', { roomId, typing: true })).toEqual({ ok: true });
    const off = nextEvent(b, 'typing', (t) => !t.typing);
    expect(await a.emitWithAck('typing', { roomId, typing: false })).toEqual({ ok: true });
    await off;
    expect(seen).toEqual([
      { roomId, userId: alice.user.id, typing: true },
      { roomId, userId: alice.user.id, typing: false },
    ]);
  });

  test('typing: true expires by itself without renewal', async () => {
    const { alice, roomId, a, b } = await pair();
    const on = nextEvent(b, 'typing', (t) => t.typing);
    const expired = nextEvent(b, 'typing', (t) => !t.typing);
    const started = Date.now();
    expect(await a.emitWithAck('typing', { roomId, typing: true })).toEqual({ ok: true });
    expect(await on).toEqual({ roomId, userId: alice.user.id, typing: true });
    expect(await expired).toEqual({ roomId, userId: alice.user.id, typing: false });
    // The expiry is the server's 3 s timer, not an immediate echo.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  test('typing into a room one is not in is refused', async () => {
    const { a } = await pair();
    const other = await registerUser(node);
    const otherRoom = await createRoom(node, other, 'private');
    expect(await a.emitWithAck('typing', { roomId: otherRoom, typing: true })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  test('presence: online while any socket is connected, offline with lastSeen after the last one', async () => {
    const { alice, bob, a } = await pair();
    const second = await node.connect(bob.accessToken);
    const states = await a.emitWithAck('presence:get', { userIds: [bob.user.id] });
    expect(states).toEqual({ ok: true, presence: [{ userId: bob.user.id, online: true }] });

    const events = collect(a, 'presence');
    // Closing one of two sockets keeps bob online; closing the last one announces him offline.
    second.socket.close();
    const offline = nextEvent(a, 'presence', (p) => p.userId === bob.user.id && !p.online);
    const bobSockets = await node.app.io.in(userChannel(bob.user.id)).fetchSockets();
    expect(bobSockets.length).toBeGreaterThanOrEqual(1);
    for (const s of bobSockets) s.disconnect(true);
    const p = await offline;
    expect(p.lastSeen).toBeDefined();
    expect(events.filter((e) => e.userId === bob.user.id)).toEqual([p]);
    const after = await a.emitWithAck('presence:get', { userIds: [bob.user.id] });
    expect(after).toMatchObject({ ok: true, presence: [{ userId: bob.user.id, online: false }] });

    const online = nextEvent(a, 'presence', (e) => e.userId === bob.user.id && e.online);
    await node.connect(bob.accessToken);
    expect(await online).toEqual({ userId: bob.user.id, online: true });
    void alice;
  });

  test('presence:get answers only for users sharing a room', async () => {
    const { bob, a } = await pair();
    const stranger = await registerUser(node);
    const res = await a.emitWithAck('presence:get', { userIds: [bob.user.id, stranger.user.id, 'nobody'] });
    expect(res).toEqual({ ok: true, presence: [{ userId: bob.user.id, online: true }] });
  });

  test("a member's other sockets receive their own messages too", async () => {
    const { alice, roomId, a } = await pair();
    const second = await node.connect(alice.accessToken);
    const id = randomUUID();
    const echoed = nextEvent(second.socket, 'message:new', (m) => m.id === id);
    expect(await a.emitWithAck('message:send', { id, roomId, content: 'from my phone' })).toMatchObject({ ok: true });
    expect(await echoed).toMatchObject({ id, senderId: alice.user.id });
  });
});
