import { randomUUID } from 'node:crypto';
import type { Ack, HttpErrorBody, Member, Message, User } from '@chat/protocol';
import { createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

type Res<T> = { status: number; body: T & HttpErrorBody };

describeOnEachBackend('profile', {}, (node) => {
  const rename = (user: TestUser, body: unknown) =>
    http<{ user: User } & HttpErrorBody>(node.url, 'PATCH', '/api/me', { token: user.accessToken, body }) as Promise<Res<{ user: User }>>;
  const send = (socket: RawSocket, roomId: string, content: string) =>
    socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content }) as Promise<Ack<{ message: Message }>>;

  test('a new display name: stored, announced to every room of the user, used by sockets already connected and by history', async () => {
    const [alice, bob] = await Promise.all([registerUser(node, 'pa'), registerUser(node, 'pb')]);
    const [roomA, roomB] = [await createRoom(node, alice, 'public', 'one'), await createRoom(node, alice, 'public', 'two')];
    await joinRoom(node, bob, roomA);
    await joinRoom(node, bob, roomB);
    const { socket: a } = await node.connect(alice.accessToken);
    const { socket: b } = await node.connect(bob.accessToken);
    expect((await send(a, roomA, 'before')).ok).toBe(true);

    const updates: { roomId: string; member: Member }[] = [];
    b.on('member:updated', (e: { roomId: string; member: Member }) => updates.push(e));
    const second = new Promise<void>((resolve) => b.on('member:updated', () => updates.length === 2 && resolve()));
    const res = await rename(alice, { displayName: '  Alice   Liddell ' });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: alice.user.id, username: alice.user.username, displayName: 'Alice Liddell' });
    await second;
    expect(updates.map((u) => [u.roomId, u.member.userId, u.member.displayName, u.member.role]).sort()).toEqual(
      [
        [roomA, alice.user.id, 'Alice Liddell', 'owner'],
        [roomB, alice.user.id, 'Alice Liddell', 'owner'],
      ].sort(),
    );
    expect((await http<{ user: User }>(node.url, 'GET', '/api/me', { token: alice.accessToken })).body.user.displayName).toBe('Alice Liddell');

    // The socket connected before the rename (its access token still says the old name) sends under the new one.
    const live = nextEvent(b, 'message:new');
    const ack = await send(a, roomA, 'after');
    expect(ack.ok && ack.message.senderName).toBe('Alice Liddell');
    expect((await live).senderName).toBe('Alice Liddell');
    // History shows the name as it is now, also on the message sent before.
    const history = await http<{ messages: Message[] }>(node.url, 'GET', `/api/rooms/${roomA}/messages`, { token: bob.accessToken });
    expect(history.body.messages.map((m) => [m.content, m.senderName])).toEqual([
      ['before', 'Alice Liddell'],
      ['after', 'Alice Liddell'],
    ]);
    // A socket connected after the rename, with the same (older) access token, too.
    const { socket: a2 } = await node.connect(alice.accessToken);
    const third = await send(a2, roomB, 'from a new socket');
    expect(third.ok && third.message.senderName).toBe('Alice Liddell');
    for (const s of [a, a2, b]) s.close();
  });

  test('bad input changes nothing', async () => {
    const carol = await registerUser(node, 'pc');
    for (const body of [{}, { displayName: '   ' }, { displayName: 'x'.repeat(65) }, { displayName: 42 }]) {
      const res = await rename(carol, body);
      expect([res.status, res.body.error?.code]).toEqual([400, 'VALIDATION']);
    }
    expect((await http<{ user: User }>(node.url, 'GET', '/api/me', { token: carol.accessToken })).body.user.displayName).toBe(carol.user.displayName);
    const anonymous = await http<HttpErrorBody>(node.url, 'PATCH', '/api/me', { body: { displayName: 'x' } });
    expect(anonymous.status).toBe(401);
  });
});
