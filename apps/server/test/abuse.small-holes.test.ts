import { randomUUID } from 'node:crypto';
import { sql } from '@chat/db';
import { LIMITS, REACTION_EMOJI, type Message } from '@chat/protocol';
import { collect, createRoom, http, joinRoom, nextEvent, registerUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

// Issue 9, item 8: reactions from a fixed set and a few per user per message; a retry of a commit that was
// never broadcast is broadcast; the owner cannot leave a room without handing it over; a left direct room
// can be reopened; display names are normalised.

describeOnEachBackend('smaller holes', {}, (node) => {
  const setup = async () => {
    const owner = await registerUser(node, 'owner');
    const bob = await registerUser(node, 'bob');
    const roomId = await createRoom(node, owner);
    await joinRoom(node, bob, roomId);
    const o = await node.connect(owner.accessToken);
    const b = await node.connect(bob.accessToken);
    return { owner, bob, roomId, ownerSocket: o.socket, bobSocket: b.socket };
  };

  test('reactions: only the fixed set, at most five per user and message; a refused one changes nothing', async () => {
    const { roomId, ownerSocket, bobSocket } = await setup();
    const sent = await ownerSocket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'react to me' });
    const messageId = sent.ok ? sent.message.id : '';
    for (const emoji of ['🦄', 'lol', '👍🏽', '']) {
      expect([emoji, await bobSocket.emitWithAck('reaction:add', { messageId, emoji })]).toMatchObject([emoji, { ok: false, error: { code: 'VALIDATION' } }]);
    }
    const five = REACTION_EMOJI.slice(0, LIMITS.reactionsPerUserPerMessage);
    for (const emoji of five) expect(await bobSocket.emitWithAck('reaction:add', { messageId, emoji })).toEqual({ ok: true });
    // The same one again is not a sixth.
    expect(await bobSocket.emitWithAck('reaction:add', { messageId, emoji: five[0]! })).toEqual({ ok: true });
    const sixth = REACTION_EMOJI[LIMITS.reactionsPerUserPerMessage]!;
    expect(await bobSocket.emitWithAck('reaction:add', { messageId, emoji: sixth })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    // Others still may; and after removing one, bob may add the sixth.
    expect(await ownerSocket.emitWithAck('reaction:add', { messageId, emoji: sixth })).toEqual({ ok: true });
    expect(await bobSocket.emitWithAck('reaction:remove', { messageId, emoji: five[0]! })).toEqual({ ok: true });
    expect(await bobSocket.emitWithAck('reaction:add', { messageId, emoji: sixth })).toEqual({ ok: true });
    const { rows } = await sql<{ emoji: string }>`select emoji from reactions where message_id = ${messageId} and user_id = (select user_id from room_members where room_id = ${roomId} and role = 'member')`.execute(node.app.db.primary);
    expect(rows.map((r) => r.emoji).sort()).toEqual([...five.slice(1), sixth].sort());
  });

  test('a retry of a message committed without a broadcast is broadcast once; a retry of one this node announced is not', async () => {
    const { owner, roomId, ownerSocket, bobSocket } = await setup();
    // A commit whose node died before broadcasting it: the same statement the nodes use, run directly.
    const id = randomUUID();
    await sql`select * from chat_send_messages(${[id]}::uuid[], ${[roomId]}::text[], ${[owner.user.id]}::text[], ${['orphan']}::text[], ${[null]}::uuid[])`.execute(node.app.db.primary);
    const seen = collect(bobSocket, 'message:new');
    const first = nextEvent(bobSocket, 'message:new', (m) => m.id === id);
    const retry = await ownerSocket.emitWithAck('message:send', { id, roomId, content: 'orphan' });
    expect(retry).toMatchObject({ ok: true, message: { id, seq: 1, content: 'orphan' } });
    expect((await first).id).toBe(id);
    // Retried again: this node announced it now, so no second broadcast (a later message is the barrier).
    expect(await ownerSocket.emitWithAck('message:send', { id, roomId, content: 'orphan' })).toMatchObject({ ok: true });
    const barrier = nextEvent(bobSocket, 'message:new', (m: Message) => m.content === 'barrier');
    await ownerSocket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'barrier' });
    await barrier;
    expect(seen.filter((m) => m.id === id)).toHaveLength(1);
  });

  test('the owner cannot leave while others remain, until the room is handed over', async () => {
    const { owner, bob, roomId } = await setup();
    const leave = (token: string) => http<{ error?: { code: string } }>(node.url, 'POST', `/api/rooms/${roomId}/leave`, { token });
    expect(await leave(owner.accessToken)).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const roles = async () => {
      const res = await http<{ members: { userId: string; role: string }[] }>(node.url, 'GET', `/api/rooms/${roomId}/members`, { token: owner.accessToken });
      return Object.fromEntries(res.body.members.map((m) => [m.userId, m.role]));
    };
    expect(await roles()).toEqual({ [owner.user.id]: 'owner', [bob.user.id]: 'member' });
    const handover = await http(node.url, 'PATCH', `/api/rooms/${roomId}/members/${bob.user.id}`, { token: owner.accessToken, body: { role: 'owner' } });
    expect(handover).toMatchObject({ status: 200, body: { member: { userId: bob.user.id, role: 'owner' } } });
    expect(await roles()).toEqual({ [owner.user.id]: 'admin', [bob.user.id]: 'owner' });
    expect((await leave(owner.accessToken)).status).toBe(204);
    // The last member may leave, owner or not.
    expect((await leave(bob.accessToken)).status).toBe(204);
  });

  test('a direct room that both had left is reopened for both, with its history', async () => {
    const alice = await registerUser(node, 'alice');
    const carl = await registerUser(node, 'carl');
    const open = () => http<{ room: { id: string } }>(node.url, 'POST', '/api/rooms/direct', { token: alice.accessToken, body: { userId: carl.user.id } });
    const created = await open();
    expect(created.status).toBe(201);
    const roomId = created.body.room.id;
    const { socket: aliceSocket } = await node.connect(alice.accessToken);
    expect(await aliceSocket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'before' })).toMatchObject({ ok: true });
    for (const user of [alice, carl]) expect((await http(node.url, 'POST', `/api/rooms/${roomId}/leave`, { token: user.accessToken })).status).toBe(204);
    const { socket: carlSocket } = await node.connect(carl.accessToken);
    const carlBack = nextEvent(carlSocket, 'room:joined');
    const reopened = await open();
    expect(reopened).toMatchObject({ status: 200, body: { room: { id: roomId } } });
    expect((await carlBack).room.id).toBe(roomId);
    for (const user of [alice, carl]) {
      const history = await http<{ messages: { content: string }[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: user.accessToken });
      expect(history.body.messages.map((m) => m.content)).toEqual(['before']);
    }
  });

  test('display names are normalised: no bidi controls or zero-width characters, one space between words', async () => {
    const register = (displayName: string) =>
      http<{ user?: { displayName: string }; error?: { code: string } }>(node.url, 'POST', '/api/auth/register', {
        body: { username: `dn_${randomUUID().slice(0, 8).replace(/-/g, '')}`, password: 'long enough password', displayName },
      });
    expect((await register('  Ali\u202Ece \u200B Smith\u2066 ')).body.user?.displayName).toBe('Alice Smith');
    expect((await register('e\u0301lodie')).body.user?.displayName).toBe('\u00e9lodie');
    expect((await register('\u200D👨\u200D👩\u200D👧')).body.user?.displayName).toBe('👨\u200D👩\u200D👧');
    expect(await register('\u200B\u202E \u2060')).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION' } } });
  });
});
