import { randomBytes, randomUUID } from 'node:crypto';
import { waitUntil } from '@chat/testkit';
import type { Ack, HttpErrorBody, JoinRequest, Member, Message, Room, RoomSummary } from '@chat/protocol';
import { collect, createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

type SendAck = Ack<{ message: Message }>;

function send(socket: RawSocket, roomId: string, content: string): Promise<SendAck> {
  return socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content }) as Promise<SendAck>;
}

function okMessage(ack: SendAck): Message {
  if (!ack.ok) throw new Error(`send failed: ${JSON.stringify(ack.error)}`);
  return ack.message;
}

describeOnEachBackend('rooms', { env: { MESSAGES_PER_SECOND: '1000' } }, (node) => {
  async function connect(user: TestUser): Promise<RawSocket> {
    const { socket } = await node.connect(user.accessToken);
    return socket;
  }

  const listRooms = (user: TestUser) => http<{ rooms: RoomSummary[] }>(node.url, 'GET', '/api/rooms', { token: user.accessToken });
  const members = (user: TestUser, roomId: string) =>
    http<{ members: Member[] } & HttpErrorBody>(node.url, 'GET', `/api/rooms/${roomId}/members`, { token: user.accessToken });
  const direct = (user: TestUser, userId: unknown) =>
    http<{ room: Room } & HttpErrorBody>(node.url, 'POST', '/api/rooms/direct', { token: user.accessToken, body: { userId } });
  const join = (user: TestUser, roomId: string) =>
    http<{ room: Room; joinRequest: JoinRequest } & HttpErrorBody>(node.url, 'POST', `/api/rooms/${roomId}/join`, { token: user.accessToken });
  const leave = (user: TestUser, roomId: string) => http<HttpErrorBody>(node.url, 'POST', `/api/rooms/${roomId}/leave`, { token: user.accessToken });

  test('create: 201 with the room, the creator is owner; type must be public or private; name must not be blank', async () => {
    const owner = await registerUser(node, 'own');
    const name = `  Lobby ${randomBytes(3).toString('hex')} `;
    const res = await http<{ room: Room }>(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body: { name, type: 'private' } });
    expect(res.status).toBe(201);
    expect(res.body.room).toEqual({ id: expect.any(String), name: name.trim(), type: 'private', createdAt: expect.any(String) });
    const listed = (await listRooms(owner)).body.rooms.find((r) => r.id === res.body.room.id);
    expect(listed).toMatchObject({ ...res.body.room, role: 'owner' });
    const mine = await members(owner, res.body.room.id);
    expect(mine.body.members).toEqual([
      { userId: owner.user.id, username: owner.user.username, displayName: owner.user.displayName, role: 'owner', online: false, deliveredSeq: 0, readSeq: 0 },
    ]);

    for (const body of [{ name: 'x', type: 'direct' }, { name: 'x', type: 'secret' }, { name: 'x' }, { name: '   ', type: 'public' }, { type: 'public' }, { name: 'x'.repeat(101), type: 'public' }]) {
      const bad = await http<HttpErrorBody>(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body });
      expect({ body, status: bad.status, code: bad.body.error.code }).toEqual({ body, status: 400, code: 'VALIDATION' });
    }
    expect((await http(node.url, 'POST', '/api/rooms', { body: { name: 'x', type: 'public' } })).status).toBe(401);
  });

  test('list: RoomSummary with role, lastSeq, readSeq, deliveredSeq, unread and lastMessage', async () => {
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const roomId = await createRoom(node, alice, 'public', 'summary');
    const quiet = await createRoom(node, alice, 'private', 'quiet');
    await joinRoom(node, bob, roomId);
    const a = await connect(alice);
    okMessage(await send(a, roomId, 'one'));
    const last = okMessage(await send(a, roomId, 'two'));

    const bobs = (await listRooms(bob)).body.rooms;
    expect(bobs.map((r) => r.id)).toEqual([roomId]);
    expect(bobs[0]).toEqual({
      id: roomId,
      name: 'summary',
      type: 'public',
      createdAt: expect.any(String),
      role: 'member',
      lastSeq: 2,
      readSeq: 0,
      deliveredSeq: 0,
      unread: 2,
      mentions: 0,
      lastMessage: last,
    });
    const alices = (await listRooms(alice)).body.rooms;
    expect(alices.map((r) => r.id).sort()).toEqual([roomId, quiet].sort());
    expect(alices.find((r) => r.id === roomId)).toMatchObject({ role: 'owner', lastSeq: 2, unread: 0, lastMessage: { id: last.id, content: 'two' } });
    const empty = alices.find((r) => r.id === quiet)!;
    expect(empty).toMatchObject({ role: 'owner', lastSeq: 0, readSeq: 0, deliveredSeq: 0, unread: 0 });
    expect(empty.lastMessage).toBeUndefined();
  });

  test('list: unread mentions of the caller are counted apart, and only while unread', async () => {
    const [carl, dina] = await Promise.all([registerUser(node, 'carl'), registerUser(node, 'dina')]);
    const roomId = await createRoom(node, carl, 'public', 'mentions');
    await joinRoom(node, dina, roomId);
    const c = await connect(carl);
    const d = await connect(dina);
    const name = dina.user.username;
    for (const text of [`@${name} look`, `hi @${name.toUpperCase()}!`, `@${name}x is someone else`, `mail a@${name} is not one`, 'no mention']) okMessage(await send(c, roomId, text));
    // Her own mention of herself, and one deleted, do not count.
    okMessage(await send(d, roomId, `@${name} note to self`));
    const deleted = okMessage(await send(c, roomId, `@${name} oops`));
    expect(((await c.timeout(10_000).emitWithAck('message:delete', { id: deleted.id })) as Ack<object>).ok).toBe(true);
    expect((await listRooms(dina)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ unread: 6, mentions: 2 });
    expect((await listRooms(carl)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ mentions: 0 });
    // Read up to the end: nothing unread, no mentions.
    expect(((await d.timeout(10_000).emitWithAck('message:read', { roomId, seq: deleted.seq })) as Ack<object>).ok).toBe(true);
    expect((await listRooms(dina)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ unread: 0, mentions: 0 });
  });

  test('direct: 201 then 200 with the same room from either side; yourself 400; unknown user 404; live sockets get room:joined', async () => {
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const b = await connect(bob);
    const bobJoined = nextEvent(b, 'room:joined');

    const created = await direct(alice, bob.user.id);
    expect(created.status).toBe(201);
    expect(created.body.room).toMatchObject({ id: expect.any(String), type: 'direct' });
    expect(await bobJoined).toEqual({ room: created.body.room });
    // Bob's socket is in the room at once: he can send, Alice sees it in history.
    const m = okMessage(await send(b, created.body.room.id, 'hi alice'));
    expect(m.roomId).toBe(created.body.room.id);

    const again = await direct(alice, bob.user.id);
    expect(again.status).toBe(200);
    expect(again.body.room).toEqual(created.body.room);
    const reverse = await direct(bob, alice.user.id);
    expect(reverse.status).toBe(200);
    expect(reverse.body.room).toEqual(created.body.room);

    const self = await direct(alice, alice.user.id);
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('VALIDATION');
    const unknown = await direct(alice, randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await direct(alice, 'bad id!')).body.error.code).toBe('VALIDATION');

    const aliceRooms = (await listRooms(alice)).body.rooms.filter((r) => r.type === 'direct');
    expect(aliceRooms.map((r) => r.id)).toEqual([created.body.room.id]);
    expect((await members(alice, created.body.room.id)).body.members.map((x) => [x.userId, x.role, x.online]).sort()).toEqual(
      [
        [alice.user.id, 'member', false],
        [bob.user.id, 'member', true],
      ].sort(),
    );

    // A third user can neither join nor read it.
    const carol = await registerUser(node, 'carol');
    const joinDirect = await join(carol, created.body.room.id);
    expect(joinDirect.status).toBe(404);
    expect(joinDirect.body.error.code).toBe('NOT_FOUND');
    expect((await members(carol, created.body.room.id)).status).toBe(404);
  });

  test('discover: public rooms only, filtered by the query', async () => {
    const owner = await registerUser(node, 'disc');
    const tag = `disc${randomBytes(4).toString('hex')}`;
    const pub = await createRoom(node, owner, 'public', `The ${tag} Lounge`);
    await createRoom(node, owner, 'private', `${tag} secret`);
    const otherName = `unrelated ${randomBytes(4).toString('hex')}`;
    const other = await createRoom(node, owner, 'public', otherName);
    const stranger = await registerUser(node, 'str');
    const discover = (query: string) => http<{ rooms: Room[] }>(node.url, 'GET', `/api/rooms/discover${query}`, { token: stranger.accessToken });
    // Discovery reads a replica: another user's new rooms appear once it has replayed them (CI saw one lag).
    // The last one written: once it is there, so is everything before it.
    const otherQuery = `?query=${encodeURIComponent(otherName)}`;
    await waitUntil(async () => (await discover(otherQuery)).body.rooms.some((r) => r.id === other), { description: 'the new rooms on the replica' });
    const res = await discover(`?query=${tag.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.rooms).toEqual([{ id: pub, name: `The ${tag} Lounge`, type: 'public', createdAt: expect.any(String) }]);
    const all = await discover('');
    expect(all.body.rooms.every((r) => r.type === 'public')).toBe(true);
    expect(all.body.rooms.map((r) => r.id)).toEqual(expect.arrayContaining([pub, other]));
    expect((await http<{ rooms: Room[] }>(node.url, 'GET', '/api/rooms/discover?query=%25', { token: stranger.accessToken })).body.rooms).toEqual([]);
  });

  test('join: public 200 and idempotent; private 202 with a pending joinRequest; unknown 404', async () => {
    const owner = await registerUser(node, 'owner');
    const bob = await registerUser(node, 'bob');
    const pub = await createRoom(node, owner, 'public', 'pub');
    const priv = await createRoom(node, owner, 'private', 'priv');

    const first = await join(bob, pub);
    expect(first.status).toBe(200);
    expect(first.body.room).toEqual({ id: pub, name: 'pub', type: 'public', createdAt: expect.any(String) });
    const second = await join(bob, pub);
    expect(second.status).toBe(200);
    expect(second.body.room).toEqual(first.body.room);
    expect((await members(owner, pub)).body.members.filter((m) => m.userId === bob.user.id)).toHaveLength(1);

    const pending = await join(bob, priv);
    expect(pending.status).toBe(202);
    expect(pending.body.joinRequest).toEqual({ roomId: priv, userId: bob.user.id, status: 'pending', createdAt: expect.any(String) });
    // A request is not membership.
    expect((await members(bob, priv)).status).toBe(404);
    expect((await listRooms(bob)).body.rooms.map((r) => r.id)).toEqual([pub]);

    const unknown = await join(bob, randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  test('leave: 204, then sending is FORBIDDEN (public) or NOT_FOUND (private), and leaving again is refused', async () => {
    const owner = await registerUser(node, 'owner');
    const pub = await createRoom(node, owner, 'public', 'pub');
    const priv = await createRoom(node, owner, 'private', 'priv');
    const bob = await registerUser(node, 'bob');
    await joinRoom(node, bob, pub);
    const b = await connect(bob);
    okMessage(await send(b, pub, 'before'));

    const res = await leave(bob, pub);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await send(b, pub, 'after')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect((await members(bob, pub)).status).toBe(403);
    expect((await listRooms(bob)).body.rooms).toEqual([]);
    expect((await leave(bob, pub)).status).toBe(403);

    const o = await connect(owner);
    expect((await leave(owner, priv)).status).toBe(204);
    expect(await send(o, priv, 'gone')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await leave(owner, priv)).status).toBe(404);
    // A reconnect does not bring the room back.
    const fresh = await node.connect(owner.accessToken);
    expect(fresh.hello.rooms.map((r) => r.roomId)).toEqual([pub]);
  });

  test('members: online reflects connected users; private room of others 404, public room of others 403', async () => {
    const owner = await registerUser(node, 'owner');
    const pub = await createRoom(node, owner, 'public', 'pub');
    const priv = await createRoom(node, owner, 'private', 'priv');
    const online = await registerUser(node, 'on');
    const offline = await registerUser(node, 'off');
    await joinRoom(node, online, pub);
    await joinRoom(node, offline, pub);
    await connect(online);

    const res = await members(owner, pub);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.members.map((m) => [m.userId, m]));
    expect(res.body.members).toHaveLength(3);
    expect(byId.get(owner.user.id)).toEqual({
      userId: owner.user.id,
      username: owner.user.username,
      displayName: owner.user.displayName,
      role: 'owner',
      online: false,
      deliveredSeq: 0,
      readSeq: 0,
    });
    expect(byId.get(online.user.id)).toMatchObject({ role: 'member', online: true });
    expect(byId.get(offline.user.id)).toMatchObject({ role: 'member', online: false });

    const stranger = await registerUser(node, 'stranger');
    const privRes = await members(stranger, priv);
    expect(privRes.status).toBe(404);
    expect(privRes.body.error.code).toBe('NOT_FOUND');
    const pubRes = await members(stranger, pub);
    expect(pubRes.status).toBe(403);
    expect(pubRes.body.error.code).toBe('FORBIDDEN');
    expect((await members(stranger, randomUUID())).status).toBe(404);
  });

  test('membership changes reach live sockets without reconnect: join, member:joined, leave, no more messages', async () => {
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const roomId = await createRoom(node, alice, 'public', 'live');
    const barrierRoom = await createRoom(node, alice, 'public', 'barrier');
    await joinRoom(node, bob, barrierRoom);
    const a = await connect(alice);
    const b = await connect(bob);

    const roomJoined = nextEvent(b, 'room:joined', (e) => e.room.id === roomId);
    const memberJoined = nextEvent(a, 'member:joined', (e) => e.roomId === roomId);
    expect((await join(bob, roomId)).status).toBe(200);
    expect(await roomJoined).toEqual({ room: { id: roomId, name: 'live', type: 'public', createdAt: expect.any(String) } });
    expect(await memberJoined).toEqual({
      roomId,
      member: { userId: bob.user.id, username: bob.user.username, displayName: bob.user.displayName, role: 'member', online: true, deliveredSeq: 0, readSeq: 0 },
    });

    // Bob's existing socket can send at once and receives the room's messages.
    const aliceSees = nextEvent(a, 'message:new', (m) => m.roomId === roomId);
    const fromBob = okMessage(await send(b, roomId, 'hello from bob'));
    expect(await aliceSees).toEqual(fromBob);
    const bobSees = nextEvent(b, 'message:new', (m) => m.roomId === roomId && m.senderId === alice.user.id);
    const fromAlice = okMessage(await send(a, roomId, 'hello bob'));
    expect(await bobSees).toEqual(fromAlice);

    const roomLeft = nextEvent(b, 'room:left', (e) => e.roomId === roomId);
    const memberLeft = nextEvent(a, 'member:left', (e) => e.roomId === roomId);
    expect((await leave(bob, roomId)).status).toBe(204);
    expect(await roomLeft).toEqual({ roomId });
    expect(await memberLeft).toEqual({ roomId, userId: bob.user.id });

    const afterLeave = collect(b, 'message:new');
    okMessage(await send(a, roomId, 'bob is gone'));
    // The barrier: once Bob has this later message of another room, he would have had the earlier one.
    const barrier = nextEvent(b, 'message:new', (m) => m.roomId === barrierRoom);
    okMessage(await send(a, barrierRoom, 'barrier'));
    await barrier;
    expect(afterLeave.filter((m) => m.roomId === roomId)).toEqual([]);
    expect(await send(b, roomId, 'still here?')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  test('every socket of the user follows membership changes, and other users are not told about room:joined', async () => {
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const carol = await registerUser(node, 'carol');
    const roomId = await createRoom(node, alice, 'public', 'multi');
    const b1 = await connect(bob);
    const b2 = await connect(bob);
    const c = await connect(carol);
    const carolJoins = collect(c, 'room:joined');
    const j1 = nextEvent(b1, 'room:joined', (e) => e.room.id === roomId);
    const j2 = nextEvent(b2, 'room:joined', (e) => e.room.id === roomId);
    await joinRoom(node, bob, roomId);
    await Promise.all([j1, j2]);
    const both = [nextEvent(b1, 'message:new', (m) => m.roomId === roomId), nextEvent(b2, 'message:new', (m) => m.roomId === roomId)];
    const a = await connect(alice);
    const m = okMessage(await send(a, roomId, 'to both of bob'));
    expect(await Promise.all(both)).toEqual([m, m]);
    // Carol's own membership change is the barrier for events meant for her.
    const ownJoined = nextEvent(c, 'room:joined');
    const own = await createRoom(node, carol, 'public', 'carols');
    expect((await ownJoined).room.id).toBe(own);
    expect(carolJoins.map((e) => e.room.id)).toEqual([own]);
  });
});
