import { randomUUID } from 'node:crypto';
import type { Ack, AuditEntry, Ban, HttpErrorBody, JoinRequest, Member, PendingJoinRequest, Message, RoomSummary, SyncRoomResult } from '@chat/protocol';
import { ChatError } from '@chat/protocol';
import { waitUntil } from '@chat/testkit';
import { activeTimeouts } from '../src/features/moderation/moderation-queries';
import { TimeoutCache, type RoomTimeouts } from '../src/features/moderation/timeout-cache';
import { createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

type SendAck = Ack<{ message: Message }>;
type Res<T> = { status: number; body: T & HttpErrorBody };

describeOnEachBackend('moderation', { env: { MESSAGES_PER_SECOND: '1000' } }, (node) => {
  async function connect(user: TestUser): Promise<RawSocket> {
    const { socket } = await node.connect(user.accessToken);
    return socket;
  }

  const call = <T = object>(user: TestUser, method: string, route: string, body?: unknown) =>
    http<T & HttpErrorBody>(node.url, method, route, { token: user.accessToken, ...(body !== undefined ? { body } : {}) }) as Promise<Res<T>>;
  const invite = (by: TestUser, roomId: string, userId: string) => call<{ member: Member }>(by, 'POST', `/api/rooms/${roomId}/invites`, { userId });
  const joinRequests = (by: TestUser, roomId: string) => call<{ joinRequests: PendingJoinRequest[] }>(by, 'GET', `/api/rooms/${roomId}/join-requests`);
  const decide = (by: TestUser, roomId: string, userId: string, verdict: 'approve' | 'reject') =>
    call<{ member: Member }>(by, 'POST', `/api/rooms/${roomId}/join-requests/${userId}/${verdict}`);
  const setRole = (by: TestUser, roomId: string, userId: string, role: unknown) => call<{ member: Member }>(by, 'PATCH', `/api/rooms/${roomId}/members/${userId}`, { role });
  const kick = (by: TestUser, roomId: string, userId: string) => call(by, 'DELETE', `/api/rooms/${roomId}/members/${userId}`);
  const ban = (by: TestUser, roomId: string, userId: string, reason?: string) => call(by, 'POST', `/api/rooms/${roomId}/bans`, { userId, reason });
  const bans = (by: TestUser, roomId: string) => call<{ bans: Ban[] }>(by, 'GET', `/api/rooms/${roomId}/bans`);
  const unban = (by: TestUser, roomId: string, userId: string) => call(by, 'DELETE', `/api/rooms/${roomId}/bans/${userId}`);
  const timeout = (by: TestUser, roomId: string, userId: string, seconds: unknown, reason?: string) =>
    call(by, 'POST', `/api/rooms/${roomId}/timeouts`, { userId, seconds, reason });
  const auditLog = (by: TestUser, roomId: string, query = '') =>
    call<{ entries: AuditEntry[]; hasMore: boolean }>(by, 'GET', `/api/rooms/${roomId}/audit-log${query}`);
  const join = (user: TestUser, roomId: string) => call<{ joinRequest: JoinRequest }>(user, 'POST', `/api/rooms/${roomId}/join`);
  const members = (user: TestUser, roomId: string) => call<{ members: Member[] }>(user, 'GET', `/api/rooms/${roomId}/members`);
  const history = (user: TestUser, roomId: string) => call<{ messages: Message[] }>(user, 'GET', `/api/rooms/${roomId}/messages`);
  const listRooms = (user: TestUser) => call<{ rooms: RoomSummary[] }>(user, 'GET', '/api/rooms');
  const send = (socket: RawSocket, roomId: string, content: string) =>
    socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content }) as Promise<SendAck>;
  const sync = (socket: RawSocket, roomId: string) =>
    socket.timeout(10_000).emitWithAck('sync', { rooms: [{ roomId, afterSeq: 0 }] }) as Promise<Ack<{ rooms: SyncRoomResult[] }>>;

  function expectError(res: Res<unknown>, status: number, code: string): void {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  }

  /** A private room with its owner, an admin, a plain member and a stranger. */
  async function cast(type: 'public' | 'private' = 'private') {
    const [owner, admin, member, stranger] = await Promise.all(['own', 'adm', 'mem', 'str'].map((p) => registerUser(node, p)));
    const roomId = await createRoom(node, owner!, type, 'moderated');
    expect((await invite(owner!, roomId, admin!.user.id)).status).toBe(200);
    expect((await invite(owner!, roomId, member!.user.id)).status).toBe(200);
    expect((await setRole(owner!, roomId, admin!.user.id, 'admin')).status).toBe(200);
    return { owner: owner!, admin: admin!, member: member!, stranger: stranger!, roomId };
  }

  /** `chat_moderation_timeout_rooms_loaded_total{why}` on the node (0 before the first). */
  async function roomsLoaded(why: 'send' | 'background'): Promise<number> {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('chat_moderation_timeout_rooms_loaded_total{') && l.includes(`why="${why}"`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  test("a connected socket's rooms load in the background: the room's first send on this node waits for no query", async () => {
    const { member, roomId } = await cast();
    const [sendBefore, backgroundBefore] = [await roomsLoaded('send'), await roomsLoaded('background')];
    const m = await connect(member);
    await waitUntil(async () => (await roomsLoaded('background')) > backgroundBefore, { description: "the member's room loaded in the background" });
    expect((await send(m, roomId, 'first words here')).ok).toBe(true);
    expect(await roomsLoaded('send')).toBe(sendBefore);
    // A room never seen on this node still loads for the send that needs it.
    const { owner, roomId: other } = await cast();
    const o = await connect(owner);
    expect((await send(o, other, 'sent at once')).ok).toBe(true);
    expect(await roomsLoaded('send')).toBeLessThanOrEqual(sendBefore + 1);
  });

  test('invite: 200 {member}, idempotent; the invitee is a member at once and their live socket joins; banned 403; unknown 404', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const guest = await registerUser(node, 'guest');
    const g = await connect(guest);
    const m = await connect(member);
    const joined = nextEvent(g, 'room:joined');
    const memberJoined = nextEvent(m, 'member:joined');

    const res = await invite(admin, roomId, guest.user.id);
    expect(res.status).toBe(200);
    expect(res.body.member).toEqual({
      userId: guest.user.id,
      username: guest.user.username,
      displayName: guest.user.displayName,
      role: 'member',
      online: true,
      deliveredSeq: 0,
      readSeq: 0,
    });
    expect(await joined).toEqual({ room: { id: roomId, name: 'moderated', type: 'private', createdAt: expect.any(String) } });
    expect(await memberJoined).toEqual({ roomId, member: res.body.member });
    // The socket joined the room channel without reconnecting: it can send at once.
    const ack = await send(g, roomId, 'thanks for the invite');
    expect(ack.ok).toBe(true);
    expect((await members(guest, roomId)).body.members.map((x) => x.userId)).toContain(guest.user.id);

    const again = await invite(owner, roomId, guest.user.id);
    expect(again.status).toBe(200);
    expect(again.body.member).toMatchObject({ userId: guest.user.id, role: 'member' });
    expect((await auditLog(owner, roomId)).body.entries.filter((e) => e.action === 'member.invite' && e.targetUserId === guest.user.id)).toHaveLength(1);

    expectError(await invite(member, roomId, stranger.user.id), 403, 'FORBIDDEN');
    expectError(await invite(stranger, roomId, stranger.user.id), 404, 'NOT_FOUND');
    expectError(await invite(owner, roomId, randomUUID()), 404, 'NOT_FOUND');
    expectError(await invite(owner, roomId, 'bad id!'), 400, 'VALIDATION');
    expectError(await call(owner, 'POST', `/api/rooms/${roomId}/invites`, {}), 400, 'VALIDATION');
    expect((await ban(owner, roomId, stranger.user.id)).status).toBe(204);
    expectError(await invite(owner, roomId, stranger.user.id), 403, 'FORBIDDEN');
    expectError(await members(stranger, roomId), 404, 'NOT_FOUND');

    // In a public room a non-member sees the room, so moderation is FORBIDDEN rather than NOT_FOUND.
    const pub = await cast('public');
    expectError(await invite(stranger, pub.roomId, stranger.user.id), 403, 'FORBIDDEN');
  });

  test('join requests: listed for moderators; approve admits at the room end and the live socket gets room:joined; reject; no pending 404', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const o = await connect(owner);
    expect((await send(o, roomId, 'backlog 1')).ok).toBe(true);
    expect((await send(o, roomId, 'backlog 2')).ok).toBe(true);
    const [bob, carol] = await Promise.all([registerUser(node, 'bob'), registerUser(node, 'carol')]);
    expect((await join(bob, roomId)).status).toBe(202);
    expect((await join(carol, roomId)).status).toBe(202);

    const listed = await joinRequests(admin, roomId);
    expect(listed.status).toBe(200);
    expect(listed.body.joinRequests).toEqual([
      { roomId, userId: bob.user.id, status: 'pending', createdAt: expect.any(String), username: bob.user.username, displayName: bob.user.displayName },
      { roomId, userId: carol.user.id, status: 'pending', createdAt: expect.any(String), username: carol.user.username, displayName: carol.user.displayName },
    ]);
    expectError(await joinRequests(member, roomId), 403, 'FORBIDDEN');
    expectError(await joinRequests(stranger, roomId), 404, 'NOT_FOUND');
    expectError(await decide(member, roomId, bob.user.id, 'approve'), 403, 'FORBIDDEN');
    expectError(await decide(stranger, roomId, bob.user.id, 'approve'), 404, 'NOT_FOUND');

    const b = await connect(bob);
    const joined = nextEvent(b, 'room:joined');
    const approved = await decide(admin, roomId, bob.user.id, 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body.member).toMatchObject({ userId: bob.user.id, role: 'member', online: true });
    expect((await joined).room.id).toBe(roomId);
    // Like a public join: the backlog is history, not unread.
    expect((await listRooms(bob)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ lastSeq: 2, readSeq: 2, deliveredSeq: 2, unread: 0 });
    expect((await send(b, roomId, 'hello all')).ok).toBe(true);
    expectError(await decide(admin, roomId, bob.user.id, 'approve'), 404, 'NOT_FOUND');

    expect((await decide(owner, roomId, carol.user.id, 'reject')).status).toBe(204);
    expectError(await members(carol, roomId), 404, 'NOT_FOUND');
    expectError(await decide(owner, roomId, carol.user.id, 'reject'), 404, 'NOT_FOUND');
    expectError(await decide(owner, roomId, carol.user.id, 'approve'), 404, 'NOT_FOUND');
    expect((await joinRequests(owner, roomId)).body.joinRequests).toEqual([]);
    // Asking again after a rejection is a new pending request.
    expect((await join(carol, roomId)).status).toBe(202);
    expect((await joinRequests(owner, roomId)).body.joinRequests.map((r) => r.userId)).toEqual([carol.user.id]);
  });

  test('room name and topic: owner and admins change them, every member gets room:updated, the room list and audit log show it; others and bad input change nothing', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const m = await connect(member);
    const update = (by: TestUser, body: unknown) => call<{ room: RoomSummary }>(by, 'PATCH', `/api/rooms/${roomId}`, body);

    const first = nextEvent(m, 'room:updated');
    const res = await update(owner, { name: 'Tea room', topic: 'Oolong, mostly' });
    expect(res.status).toBe(200);
    expect(res.body.room).toMatchObject({ id: roomId, name: 'Tea room', topic: 'Oolong, mostly', type: 'private' });
    expect(await first).toEqual({ room: res.body.room });
    expect((await listRooms(member)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ name: 'Tea room', topic: 'Oolong, mostly' });

    // An admin clears the topic; the name stays.
    const second = nextEvent(m, 'room:updated');
    const cleared = await update(admin, { topic: '' });
    expect(cleared.body.room).toMatchObject({ name: 'Tea room' });
    expect(cleared.body.room.topic).toBeUndefined();
    expect((await second).room.topic).toBeUndefined();

    expectError(await update(member, { name: 'Mine now' }), 403, 'FORBIDDEN');
    expectError(await update(stranger, { name: 'Mine now' }), 404, 'NOT_FOUND');
    for (const body of [{}, { name: '   ' }, { name: 'x'.repeat(101) }, { topic: 'y'.repeat(501) }, { name: 42 }]) expectError(await update(owner, body), 400, 'VALIDATION');
    expect((await listRooms(owner)).body.rooms.find((r) => r.id === roomId)).toMatchObject({ name: 'Tea room' });

    const entries = (await auditLog(owner, roomId)).body.entries.filter((e) => e.action === 'room.update');
    expect(entries.map((e) => [e.actorId, e.details])).toEqual([
      [admin.user.id, { fromTopic: 'Oolong, mostly', toTopic: null }],
      [owner.user.id, { fromName: 'moderated', toName: 'Tea room', fromTopic: null, toTopic: 'Oolong, mostly' }],
    ]);
    expect(entries[0]!.targetUserId).toBeUndefined();

    // A direct room has no name or topic of its own.
    const direct = await call<{ room: { id: string } }>(owner, 'POST', '/api/rooms/direct', { userId: member.user.id });
    expectError(await call(owner, 'PATCH', `/api/rooms/${direct.body.room.id}`, { name: 'ours' }), 403, 'FORBIDDEN');
  });

  test('role: only the owner changes roles; the owner cannot be changed; member:updated goes to the room', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const m = await connect(member);
    const updated = nextEvent(m, 'member:updated', (p) => p.member.userId === member.user.id);

    const res = await setRole(owner, roomId, member.user.id, 'admin');
    expect(res.status).toBe(200);
    expect(res.body.member).toEqual({
      userId: member.user.id,
      username: member.user.username,
      displayName: member.user.displayName,
      role: 'admin',
      online: true,
      deliveredSeq: 0,
      readSeq: 0,
    });
    expect(await updated).toEqual({ roomId, member: res.body.member });
    expect((await members(owner, roomId)).body.members.find((x) => x.userId === member.user.id)?.role).toBe('admin');
    // The new admin may now moderate.
    expect((await joinRequests(member, roomId)).status).toBe(200);

    const demoted = await setRole(owner, roomId, member.user.id, 'member');
    expect(demoted.body.member.role).toBe('member');
    expectError(await joinRequests(member, roomId), 403, 'FORBIDDEN');

    expectError(await setRole(admin, roomId, member.user.id, 'admin'), 403, 'FORBIDDEN');
    expectError(await setRole(member, roomId, member.user.id, 'admin'), 403, 'FORBIDDEN');
    expectError(await setRole(stranger, roomId, member.user.id, 'admin'), 404, 'NOT_FOUND');
    expectError(await setRole(owner, roomId, owner.user.id, 'member'), 403, 'FORBIDDEN');
    expectError(await setRole(owner, roomId, stranger.user.id, 'admin'), 404, 'NOT_FOUND');
    // `owner` is a handover (abuse.small-holes.test.ts); only the owner may make it.
    expectError(await setRole(admin, roomId, member.user.id, 'owner'), 403, 'FORBIDDEN');
    expectError(await setRole(owner, roomId, member.user.id, 'king'), 400, 'VALIDATION');
  });

  test('kick: 204, the member leaves live (room:left) and may rejoin a public room; an admin cannot kick the owner or an admin', async () => {
    const { owner, admin, member, stranger, roomId } = await cast('public');
    const m = await connect(member);
    const o = await connect(owner);
    const left = nextEvent(m, 'room:left');
    const memberLeft = nextEvent(o, 'member:left', (p) => p.userId === member.user.id);

    expectError(await kick(member, roomId, admin.user.id), 403, 'FORBIDDEN');
    expectError(await kick(stranger, roomId, member.user.id), 403, 'FORBIDDEN');
    expect((await kick(admin, roomId, member.user.id)).status).toBe(204);
    expect(await left).toEqual({ roomId });
    expect(await memberLeft).toEqual({ roomId, userId: member.user.id });
    expect((await send(m, roomId, 'still here?')).ok).toBe(false);
    expectError(await kick(admin, roomId, member.user.id), 404, 'NOT_FOUND');
    // A kick is not a ban.
    await joinRoom(node, member, roomId);

    expectError(await kick(admin, roomId, owner.user.id), 403, 'FORBIDDEN');
    const admin2 = await registerUser(node, 'adm2');
    await invite(owner, roomId, admin2.user.id);
    await setRole(owner, roomId, admin2.user.id, 'admin');
    expectError(await kick(admin, roomId, admin2.user.id), 403, 'FORBIDDEN');
    expectError(await kick(owner, roomId, owner.user.id), 403, 'FORBIDDEN');
    expect((await kick(owner, roomId, admin2.user.id)).status).toBe(204);
    expect((await members(owner, roomId)).body.members.map((x) => x.userId).sort()).toEqual([owner.user.id, admin.user.id, member.user.id].sort());
  });

  test('ban: removes a live member (room:left), blocks rejoin and invites; unban allows rejoin', async () => {
    const { owner, admin, member, stranger, roomId } = await cast('public');
    const m = await connect(member);
    const left = nextEvent(m, 'room:left');

    expectError(await ban(member, roomId, stranger.user.id), 403, 'FORBIDDEN');
    expectError(await ban(admin, roomId, owner.user.id), 403, 'FORBIDDEN');
    expectError(await ban(owner, roomId, randomUUID()), 404, 'NOT_FOUND');
    expectError(await ban(owner, roomId, member.user.id, 'x'.repeat(501)), 400, 'VALIDATION');

    expect((await ban(admin, roomId, member.user.id, 'spam')).status).toBe(204);
    expect(await left).toEqual({ roomId });
    const afterBan = await send(m, roomId, 'let me back');
    expect(afterBan.ok ? 'ok' : afterBan.error.code).toBe('FORBIDDEN');
    expect((await members(owner, roomId)).body.members.map((x) => x.userId)).not.toContain(member.user.id);
    expectError(await join(member, roomId), 403, 'FORBIDDEN');
    expectError(await invite(owner, roomId, member.user.id), 403, 'FORBIDDEN');

    // The ban list, for moderators only, with the name and the reason.
    expectError(await bans(member, roomId), 403, 'FORBIDDEN');
    expectError(await bans(stranger, roomId), 403, 'FORBIDDEN');
    const listed = await bans(admin, roomId);
    expect(listed.status).toBe(200);
    expect(listed.body.bans).toEqual([
      { roomId, userId: member.user.id, username: member.user.username, displayName: member.user.displayName, reason: 'spam', createdAt: expect.any(String) },
    ]);

    expectError(await unban(member, roomId, member.user.id), 403, 'FORBIDDEN');
    expect((await unban(admin, roomId, member.user.id)).status).toBe(204);
    expect((await bans(admin, roomId)).body.bans).toEqual([]);
    expectError(await unban(admin, roomId, member.user.id), 404, 'NOT_FOUND');
    // Unbanning does not re-add: the user rejoins by themselves.
    expect((await members(owner, roomId)).body.members.map((x) => x.userId)).not.toContain(member.user.id);
    const rejoined = nextEvent(m, 'room:joined');
    await joinRoom(node, member, roomId);
    expect((await rejoined).room.id).toBe(roomId);
    expect((await send(m, roomId, 'back again')).ok).toBe(true);

    // A stranger can be banned pre-emptively.
    expect((await ban(owner, roomId, stranger.user.id)).status).toBe(204);
    expectError(await join(stranger, roomId), 403, 'FORBIDDEN');
  });

  test('ban of a private-room requester rejects the pending request', async () => {
    const { owner, stranger, roomId } = await cast();
    expect((await join(stranger, roomId)).status).toBe(202);
    expect((await ban(owner, roomId, stranger.user.id)).status).toBe(204);
    expect((await joinRequests(owner, roomId)).body.joinRequests).toEqual([]);
    expectError(await decide(owner, roomId, stranger.user.id, 'approve'), 403, 'FORBIDDEN');
    expectError(await decide(owner, roomId, stranger.user.id, 'reject'), 404, 'NOT_FOUND');
  });

  test('timeout: message:send answers FORBIDDEN while history and sync still work, and it ends', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const m = await connect(member);
    const o = await connect(owner);
    const before = await send(m, roomId, 'before the timeout');
    expect(before.ok).toBe(true);

    expectError(await timeout(member, roomId, admin.user.id, 60), 403, 'FORBIDDEN');
    expectError(await timeout(stranger, roomId, member.user.id, 60), 404, 'NOT_FOUND');
    expectError(await timeout(admin, roomId, owner.user.id, 60), 403, 'FORBIDDEN');
    expectError(await timeout(owner, roomId, stranger.user.id, 60), 404, 'NOT_FOUND');
    for (const seconds of [0, -1, 1.5, '60', 60 * 60 * 24 * 29]) expectError(await timeout(owner, roomId, member.user.id, seconds), 400, 'VALIDATION');

    // Every open client hears of it at once (member:updated with when it ends), and the member list shows it.
    const announced = nextEvent(o, 'member:updated');
    const heard = nextEvent(m, 'member:updated');
    const timedAt = Date.now();
    expect((await timeout(admin, roomId, member.user.id, 600, 'cool down')).status).toBe(204);
    for (const event of [await announced, await heard]) {
      expect(event.roomId).toBe(roomId);
      expect(event.member.userId).toBe(member.user.id);
      expect(Date.parse(event.member.timedOutUntil!)).toBeGreaterThanOrEqual(timedAt + 599_000);
    }
    const listedMembers = (await members(owner, roomId)).body.members;
    expect(listedMembers.find((x) => x.userId === member.user.id)?.timedOutUntil).toBe((await heard).member.timedOutUntil);
    expect(listedMembers.find((x) => x.userId === owner.user.id)?.timedOutUntil).toBeUndefined();
    const refused = await send(m, roomId, 'can I talk?');
    expect(refused.ok ? 'ok' : refused.error.code).toBe('FORBIDDEN');
    // Editing, reacting and typing are speaking too; deleting one's own message is not.
    if (!before.ok) throw new Error('unreachable');
    expect(await m.timeout(10_000).emitWithAck('message:edit', { id: before.message.id, content: 'sneaky edit' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await m.timeout(10_000).emitWithAck('reaction:add', { messageId: before.message.id, emoji: '👍' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await m.timeout(10_000).emitWithAck('typing', { roomId, typing: true })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Reads still work, and others can still talk.
    expect((await send(o, roomId, 'owner speaking')).ok).toBe(true);
    expect((await history(member, roomId)).body.messages.map((x) => x.content)).toEqual(['before the timeout', 'owner speaking']);
    const synced = await sync(m, roomId);
    expect(synced.ok && synced.rooms[0]!.messages.map((x) => x.content)).toEqual(['before the timeout', 'owner speaking']);

    // A new timeout replaces the old one: one second from now, then sends pass again.
    const shortened = Date.now();
    expect((await timeout(owner, roomId, member.user.id, 1)).status).toBe(204);
    const ack = await waitUntil(
      async () => {
        const a = await send(m, roomId, 'free again');
        if (a.ok) return a;
        expect(a.error.code).toBe('FORBIDDEN');
        return undefined;
      },
      { description: 'a send after the timeout ends', timeoutMs: 10_000, intervalMs: 100, retryErrors: false },
    );
    expect(Date.now() - shortened).toBeGreaterThanOrEqual(900);
    expect(ack.message.content).toBe('free again');
  });

  test('timeout set by another node (straight in the database) applies here within seconds', async () => {
    const { owner, member, roomId } = await cast();
    const m = await connect(member);
    expect((await send(m, roomId, 'warm the cache')).ok).toBe(true);
    await node.app.db.primary
      .insertInto('timeouts')
      .values({ room_id: roomId, user_id: member.user.id, until: new Date(Date.now() + 60_000), created_by: owner.user.id })
      .execute();
    const code = await waitUntil(
      async () => {
        const a = await send(m, roomId, 'probe');
        return a.ok ? undefined : a.error.code;
      },
      { description: 'the timeout from elsewhere applies', timeoutMs: 10_000, intervalMs: 100, retryErrors: false },
    );
    expect(code).toBe('FORBIDDEN');
  });

  test('active timeouts of several rooms come back in one query, by room; ended ones and other rooms are left out', async () => {
    const a = await cast();
    const b = await cast();
    const c = await cast();
    const soon = new Date(Date.now() + 60_000);
    await node.app.db.primary
      .insertInto('timeouts')
      .values([
        { room_id: a.roomId, user_id: a.member.user.id, until: soon, created_by: a.owner.user.id },
        { room_id: a.roomId, user_id: a.admin.user.id, until: new Date(Date.now() - 1_000), created_by: a.owner.user.id },
        { room_id: b.roomId, user_id: b.member.user.id, until: soon, created_by: b.owner.user.id },
        { room_id: b.roomId, user_id: b.admin.user.id, until: soon, created_by: b.owner.user.id },
        { room_id: c.roomId, user_id: c.member.user.id, until: soon, created_by: c.owner.user.id },
      ])
      .execute();
    const byRoom = await activeTimeouts(node.app.db.primary, [a.roomId, b.roomId, 'no-such-room']);
    expect([...byRoom.keys()].sort()).toEqual([a.roomId, b.roomId].sort());
    expect(byRoom.get(a.roomId)).toEqual(new Map([[a.member.user.id, soon.getTime()]]));
    expect(byRoom.get(b.roomId)).toEqual(new Map([[b.member.user.id, soon.getTime()], [b.admin.user.id, soon.getTime()]]));
    expect(await activeTimeouts(node.app.db.primary, [])).toEqual(new Map());
  });

  test('audit log: every action, newest first, paged by id; moderators only', async () => {
    const { owner, admin, member, stranger, roomId } = await cast();
    const target = await registerUser(node, 'tgt');
    expect((await invite(admin, roomId, target.user.id)).status).toBe(200);
    expect((await timeout(admin, roomId, target.user.id, 30, 'calm')).status).toBe(204);
    expect((await kick(admin, roomId, target.user.id)).status).toBe(204);
    expect((await ban(owner, roomId, target.user.id, 'again')).status).toBe(204);
    expect((await unban(owner, roomId, target.user.id)).status).toBe(204);

    const all = await auditLog(owner, roomId);
    expect(all.status).toBe(200);
    expect(all.body.hasMore).toBe(false);
    expect(all.body.entries.map((e) => [e.action, e.actorId, e.targetUserId])).toEqual([
      ['member.unban', owner.user.id, target.user.id],
      ['member.ban', owner.user.id, target.user.id],
      ['member.kick', admin.user.id, target.user.id],
      ['member.timeout', admin.user.id, target.user.id],
      ['member.invite', admin.user.id, target.user.id],
      ['member.role', owner.user.id, admin.user.id],
      ['member.invite', owner.user.id, member.user.id],
      ['member.invite', owner.user.id, admin.user.id],
    ]);
    // With the names as they are now, so a reader sees who, also of people who have left the room.
    expect(all.body.entries[0]).toMatchObject({ actorName: owner.user.displayName, targetName: target.user.displayName });
    expect(all.body.entries.every((e) => e.actorName !== undefined && e.targetName !== undefined)).toBe(true);
    const byAction = new Map(all.body.entries.map((e) => [e.action, e]));
    expect(byAction.get('member.role')?.details).toEqual({ from: 'member', to: 'admin' });
    expect(byAction.get('member.ban')?.details).toEqual({ reason: 'again', removed: false });
    expect(byAction.get('member.timeout')?.details).toEqual({ seconds: 30, until: expect.any(String), reason: 'calm' });
    for (const e of all.body.entries) expect(e).toMatchObject({ id: expect.any(String), roomId, createdAt: expect.any(String) });
    const ids = all.body.entries.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);

    const first = await auditLog(admin, roomId, '?limit=3');
    expect(first.body.entries).toEqual(all.body.entries.slice(0, 3));
    expect(first.body.hasMore).toBe(true);
    const second = await auditLog(admin, roomId, `?limit=3&before=${first.body.entries[2]!.id}`);
    expect(second.body.entries).toEqual(all.body.entries.slice(3, 6));
    expect(second.body.hasMore).toBe(true);
    const last = await auditLog(admin, roomId, `?limit=3&before=${second.body.entries[2]!.id}`);
    expect(last.body.entries).toEqual(all.body.entries.slice(6));
    expect(last.body.hasMore).toBe(false);

    expectError(await auditLog(member, roomId), 403, 'FORBIDDEN');
    expectError(await auditLog(stranger, roomId), 404, 'NOT_FOUND');
    expectError(await auditLog(owner, roomId, '?before=abc'), 400, 'VALIDATION');
    // Another room's log is its own.
    const other = await createRoom(node, stranger, 'private', 'other');
    expect((await auditLog(stranger, other)).body).toEqual({ entries: [], hasMore: false });
  });

  test('moderation of a direct room is FORBIDDEN to its members', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(node, 'a'), registerUser(node, 'b'), registerUser(node, 'c')]);
    const room = await call<{ room: { id: string } }>(alice, 'POST', '/api/rooms/direct', { userId: bob.user.id });
    expectError(await invite(alice, room.body.room.id, carol.user.id), 403, 'FORBIDDEN');
    expectError(await kick(alice, room.body.room.id, bob.user.id), 403, 'FORBIDDEN');
    expectError(await auditLog(carol, room.body.room.id), 404, 'NOT_FOUND');
    // Unauthenticated is 401 before anything else.
    expect((await http(node.url, 'GET', `/api/rooms/${room.body.room.id}/audit-log`)).status).toBe(401);
  });
});

describe('TimeoutCache', () => {
  interface Load {
    roomIds: string[];
    resolve: (byRoom: Map<string, RoomTimeouts>) => void;
  }

  function harness(initial: RoomTimeouts = new Map()) {
    let clock = 1_000_000;
    let auto = true;
    const loads: Load[] = [];
    let waiting: ((load: Load) => void) | undefined;
    const cache = new TimeoutCache(
      (roomIds) => {
        if (auto) {
          loads.push({ roomIds, resolve: () => {} });
          return Promise.resolve(new Map(roomIds.map((id) => [id, new Map(initial)])));
        }
        return new Promise<Map<string, RoomTimeouts>>((resolve) => {
          const load = { roomIds, resolve };
          loads.push(load);
          waiting?.(load);
          waiting = undefined;
        });
      },
      { ttlMs: 5_000, refreshWindowMs: 50, now: () => clock },
    );
    return {
      cache,
      loads,
      advance: (ms: number) => (clock += ms),
      now: () => clock,
      manual: () => (auto = false),
      /** The next query the cache sends (manual mode). */
      nextLoad: () => new Promise<Load>((resolve) => (waiting = resolve)),
    };
  }

  const forbidden = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof ChatError ? err.code : 'other';
    }
    return 'allowed';
  };
  const turn = () => new Promise((r) => setImmediate(r));

  test('loads a room once, then answers synchronously; a timed-out user is FORBIDDEN until the end', async () => {
    const h = harness(new Map([['u1', 1_000_000 + 2_000]]));
    await expect(h.cache.assertCanSend('r', 'u1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(h.cache.assertCanSend('r', 'u2')).toBeUndefined();
    expect(forbidden(() => h.cache.assertCanSend('r', 'u1'))).toBe('FORBIDDEN');
    h.advance(2_000);
    expect(forbidden(() => h.cache.assertCanSend('r', 'u1'))).toBe('allowed');
    expect(h.loads).toHaveLength(1);
  });

  test('first sends of several rooms in one turn share one query', async () => {
    const h = harness(new Map([['u1', 1_000_000 + 60_000]]));
    const checks = ['r1', 'r2', 'r3', 'r1'].map((roomId) => Promise.resolve(h.cache.assertCanSend(roomId, 'u2')));
    await Promise.all(checks);
    expect(h.loads.map((l) => l.roomIds)).toEqual([['r1', 'r2', 'r3']]);
    for (const roomId of ['r1', 'r2', 'r3']) expect(forbidden(() => h.cache.assertCanSend(roomId, 'u1'))).toBe('FORBIDDEN');
  });

  test('a stale room is answered from memory while one background reload runs; rooms stale together share it', async () => {
    const h = harness();
    await Promise.all(['r1', 'r2'].map((roomId) => h.cache.assertCanSend(roomId, 'u1')));
    h.manual();
    h.advance(5_000);
    const reload = h.nextLoad();
    expect(h.cache.assertCanSend('r1', 'u1')).toBeUndefined();
    expect(h.cache.assertCanSend('r1', 'u1')).toBeUndefined();
    expect(h.cache.assertCanSend('r2', 'u1')).toBeUndefined();
    const load = await reload;
    expect(load.roomIds).toEqual(['r1', 'r2']);
    expect(h.loads).toHaveLength(2);
    // A room without timeouts is left out of the answer: it has none.
    load.resolve(new Map([['r1', new Map([['u1', h.now() + 60_000]])]]));
    await turn();
    expect(forbidden(() => h.cache.assertCanSend('r1', 'u1'))).toBe('FORBIDDEN');
    expect(forbidden(() => h.cache.assertCanSend('r2', 'u1'))).toBe('allowed');
    expect(h.loads).toHaveLength(2);
  });

  test('a local set applies at once and survives a reload that started before it', async () => {
    const h = harness();
    await h.cache.assertCanSend('r', 'u1');
    h.cache.set('r', 'u1', h.now() + 10_000);
    expect(forbidden(() => h.cache.assertCanSend('r', 'u1'))).toBe('FORBIDDEN');

    h.manual();
    h.cache.invalidate('r');
    const loaded = h.nextLoad();
    const pending = h.cache.assertCanSend('r', 'u2');
    h.cache.set('r', 'u2', h.now() + 10_000);
    (await loaded).resolve(new Map());
    await expect(pending).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(forbidden(() => h.cache.assertCanSend('r', 'u2'))).toBe('FORBIDDEN');
    // The snapshot replaced u1's local entry: the reload is the truth for what was committed before it.
    expect(forbidden(() => h.cache.assertCanSend('r', 'u1'))).toBe('allowed');
  });

  test('a room invalidated while its load waits: the waiting send is answered, the next send loads it again', async () => {
    const h = harness();
    h.manual();
    const first = h.nextLoad();
    const waiting = h.cache.assertCanSend('r', 'u1');
    h.cache.invalidate('r');
    const again = h.cache.assertCanSend('r', 'u1');
    const load = await first;
    expect(load.roomIds).toEqual(['r']);
    load.resolve(new Map([['r', new Map([['u1', h.now() + 60_000]])]]));
    await expect(waiting).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(again).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Both loads were in the same query; the room is cached once, from it.
    expect(h.loads).toHaveLength(1);
    expect(forbidden(() => h.cache.assertCanSend('r', 'u1'))).toBe('FORBIDDEN');
  });

  test('prefetched rooms load in the background window, then answer sends synchronously', async () => {
    const h = harness();
    h.manual();
    const first = h.nextLoad();
    h.cache.prefetch(['r1', 'r2']);
    h.cache.prefetch(['r2']);
    await turn();
    // Not at once: a connection wave's rooms wait for the window and share its query.
    expect(h.loads).toHaveLength(0);
    const load = await first;
    expect(load.roomIds).toEqual(['r1', 'r2']);
    load.resolve(new Map([['r2', new Map([['u1', h.now() + 60_000]])]]));
    await turn();
    expect(h.cache.assertCanSend('r1', 'u1')).toBeUndefined();
    expect(forbidden(() => h.cache.assertCanSend('r2', 'u1'))).toBe('FORBIDDEN');
    // Cached rooms are not loaded again: the next window's query holds only the new room.
    const second = h.nextLoad();
    h.cache.prefetch(['r1', 'r2', 'r3']);
    expect((await second).roomIds).toEqual(['r3']);
    expect(h.loads).toHaveLength(2);
  });

  test('a send to a room whose prefetch waits for its window is not held for the window; sends go first', async () => {
    const loads: string[][] = [];
    const cache = new TimeoutCache(
      (roomIds) => {
        loads.push(roomIds);
        return Promise.resolve(new Map());
      },
      { refreshWindowMs: 600_000, maxRoomsPerLoad: 2 },
    );
    cache.prefetch(['p1', 'p2', 'p3']);
    // Without the send's own urgency this would wait ten minutes (the test's timeout fails it).
    await cache.assertCanSend('x', 'u');
    expect(loads).toEqual([['x', 'p1']]);
    // The prefetches that did not fit wait for the next window, not for the next turn.
    await turn();
    await turn();
    expect(loads).toHaveLength(1);
    await cache.assertCanSend('p3', 'u');
    expect(loads).toEqual([['x', 'p1'], ['p3', 'p2']]);
    expect(cache.assertCanSend('p2', 'u')).toBeUndefined();
    cache.close();
  });

  test('a failed query fails the sends waiting on it; the next send tries again', async () => {
    let calls = 0;
    const cache = new TimeoutCache(async (roomIds) => {
      calls++;
      if (calls === 1) throw new ChatError('UNAVAILABLE', 'cannot check timeouts, try again');
      return new Map(roomIds.map((id) => [id, new Map()]));
    });
    await expect(Promise.all([cache.assertCanSend('a', 'u'), cache.assertCanSend('b', 'u')])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(cache.assertCanSend('a', 'u')).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  test('close refuses the loads still queued', async () => {
    const h = harness();
    const waiting = h.cache.assertCanSend('r', 'u1');
    h.cache.close();
    await expect(waiting).rejects.toThrow('closed');
    expect(h.loads).toHaveLength(0);
  });
});
