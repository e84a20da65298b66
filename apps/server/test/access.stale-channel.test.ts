import { randomUUID } from 'node:crypto';
import { roomChannel } from '@chat/protocol';
import { createRoom, http, joinRoom, registerUser, type TestUser } from './support/harness';
import { describeOnEachBackend, type NodeFixture } from './support/node-fixture';

// Membership changes reach sockets through a broadcast (the cluster bus); when it is lost, a socket stays in
// a room's channel it no longer belongs to. The write path must not trust that channel: sends, edits,
// deletes, reactions and sync read the member row, refuse, and take the socket out of the stale channel.

/** The user's membership ends in the database only, as when the broadcast announcing it is lost. */
async function endMembershipSilently(node: NodeFixture, roomId: string, user: TestUser): Promise<void> {
  await node.app.db.primary.updateTable('room_members').set({ left_at: new Date() }).where('room_id', '=', roomId).where('user_id', '=', user.user.id).execute();
}

async function channelMembers(node: NodeFixture, roomId: string): Promise<string[]> {
  return (await node.app.io.local.in(roomChannel(roomId)).fetchSockets()).map((s) => s.data.userId);
}

describeOnEachBackend('a stale room channel grants no writes', {}, (node) => {
  test('public room: a send from a stale channel is FORBIDDEN, nothing is stored, and the channel is left', async () => {
    const owner = await registerUser(node);
    const bob = await registerUser(node);
    const roomId = await createRoom(node, owner);
    await joinRoom(node, bob, roomId);
    const { socket } = await node.connect(bob.accessToken);
    const before = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'before' });
    if (!before.ok) throw new Error('the first send must pass');

    await endMembershipSilently(node, roomId, bob);
    expect(await channelMembers(node, roomId)).toContain(bob.user.id);

    const id = randomUUID();
    expect(await socket.emitWithAck('message:send', { id, roomId, content: 'after' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await channelMembers(node, roomId)).not.toContain(bob.user.id);
    const mid = before.message.id;
    // The channel is gone now; these are refused by it. Their member-row check is tested below with a
    // second message, while the channel is still there.
    expect(await socket.emitWithAck('message:edit', { id: mid, content: 'edited' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    const history = await http<{ messages: { id: string; content: string }[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: owner.accessToken });
    expect(history.body.messages.map((m) => m.content)).toEqual(['before']);
  });

  test('edits, deletes, reactions and sync read the member row while the stale channel is still there', async () => {
    const owner = await registerUser(node);
    const roomId = await createRoom(node, owner);
    const bobs = await Promise.all([registerUser(node), registerUser(node), registerUser(node), registerUser(node)]);
    const sockets = [];
    const messageIds: string[] = [];
    for (const bob of bobs) {
      await joinRoom(node, bob, roomId);
      const { socket } = await node.connect(bob.accessToken);
      const ack = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: `by ${bob.user.username}` });
      if (!ack.ok) throw new Error('send must pass');
      messageIds.push(ack.message.id);
      sockets.push(socket);
    }
    for (const bob of bobs) await endMembershipSilently(node, roomId, bob);
    expect(await channelMembers(node, roomId)).toEqual(expect.arrayContaining(bobs.map((b) => b.user.id)));

    const [s0, s1, s2, s3] = sockets as [(typeof sockets)[number], (typeof sockets)[number], (typeof sockets)[number], (typeof sockets)[number]];
    expect(await s0.emitWithAck('message:edit', { id: messageIds[0]!, content: 'edited' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await s1.emitWithAck('message:delete', { id: messageIds[1]! })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await s2.emitWithAck('reaction:add', { messageId: messageIds[2]!, emoji: '👍' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await s3.emitWithAck('sync', { rooms: [{ roomId }] })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Each refusal took its socket out of the channel.
    expect(await channelMembers(node, roomId)).toEqual([]);

    const history = await http<{ messages: { content: string; deleted?: boolean; editedAt?: string; reactions?: unknown[] }[] }>(
      node.url,
      'GET',
      `/api/rooms/${roomId}/messages`,
      { token: owner.accessToken },
    );
    expect(history.body.messages.map((m) => [m.content, m.deleted ?? false, m.editedAt ?? null, m.reactions ?? []])).toEqual(
      bobs.map((b) => [`by ${b.user.username}`, false, null, []]),
    );
  });

  test('private room: a send from a stale channel is NOT_FOUND', async () => {
    const owner = await registerUser(node);
    const bob = await registerUser(node);
    const roomId = await createRoom(node, owner, 'private');
    await node.app.db.primary.insertInto('room_members').values({ room_id: roomId, user_id: bob.user.id, role: 'member' }).execute();
    const { socket } = await node.connect(bob.accessToken);
    const ok = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'member' });
    expect(ok.ok).toBe(true);
    await endMembershipSilently(node, roomId, bob);
    expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'stale' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await channelMembers(node, roomId)).not.toContain(bob.user.id);
  });
});
