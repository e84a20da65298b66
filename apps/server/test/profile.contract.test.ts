import { randomUUID } from 'node:crypto';
import { LIMITS, type Ack, type HttpErrorBody, type Member, type Message, type User } from '@chat/protocol';
import { createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

type Res<T> = { status: number; body: T & HttpErrorBody };

/** The smallest valid PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

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

  test('a profile picture: set, served without a token under an id that changes with it, shown to the rooms, removed; bad pictures change nothing', async () => {
    const [dora, eve] = await Promise.all([registerUser(node, 'pd'), registerUser(node, 'pe')]);
    const roomId = await createRoom(node, dora, 'public', 'faces');
    await joinRoom(node, eve, roomId);
    const { socket: e } = await node.connect(eve.accessToken);
    const put = (user: TestUser, body: Buffer, type: string) =>
      fetch(`${node.url}/api/me/avatar`, { method: 'PUT', headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': type }, body }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as { user: User } & HttpErrorBody }),
      );

    const updated = nextEvent(e, 'member:updated', (u) => u.member.userId === dora.user.id);
    const first = await put(dora, PNG, 'image/png');
    expect(first.status).toBe(200);
    const url = first.body.user.avatarUrl!;
    expect(url).toMatch(/^\/api\/avatars\/[0-9a-f-]{36}$/);
    expect((await updated).member.avatarUrl).toBe(url);
    const picture = await fetch(node.url + url);
    expect([picture.status, picture.headers.get('content-type'), picture.headers.get('x-content-type-options')]).toEqual([200, 'image/png', 'nosniff']);
    expect(Buffer.from(await picture.arrayBuffer()).equals(PNG)).toBe(true);
    const members = await http<{ members: Member[] }>(node.url, 'GET', `/api/rooms/${roomId}/members`, { token: eve.accessToken });
    expect(members.body.members.find((m) => m.userId === dora.user.id)?.avatarUrl).toBe(url);

    // A new picture: a new address; the old one is gone.
    const second = await put(dora, PNG, 'image/png');
    expect(second.body.user.avatarUrl).not.toBe(url);
    expect((await fetch(node.url + url)).status).toBe(404);

    for (const [body, type, status, code] of [
      [Buffer.from('<svg onload="alert(1)"/>'), 'image/svg+xml', 400, 'VALIDATION'],
      [Buffer.from('not a png at all'), 'image/png', 400, 'VALIDATION'],
      [Buffer.concat([PNG, Buffer.alloc(LIMITS.avatarMaxBytes)]), 'image/png', 413, 'PAYLOAD_TOO_LARGE'],
    ] as const) {
      const res = await put(dora, body, type);
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
    }
    const me = await http<{ user: User }>(node.url, 'GET', '/api/me', { token: dora.accessToken });
    expect(me.body.user.avatarUrl).toBe(second.body.user.avatarUrl);

    const removed = await http<{ user: User }>(node.url, 'DELETE', '/api/me/avatar', { token: dora.accessToken });
    expect(removed.status).toBe(200);
    expect(removed.body.user.avatarUrl).toBeUndefined();
    expect((await fetch(node.url + second.body.user.avatarUrl!)).status).toBe(404);
    e.close();
  });
});
