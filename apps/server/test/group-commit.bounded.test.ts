import { randomUUID } from 'node:crypto';
import { sql } from '@chat/db';
import { createRoom, holdRoomRow, http, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// The group-commit queue is bounded: while the database is stuck, sends beyond GROUP_COMMIT_MAX_QUEUE are
// refused with UNAVAILABLE and a retryAfterMs hint, and a refused send is not stored (its retry is a new send).

const MAX_QUEUE = 3;

describe('group-commit queue bound', () => {
  const node = useNode('postgres', { env: { GROUP_COMMIT_MAX_QUEUE: String(MAX_QUEUE), MESSAGES_PER_SECOND: '1000000' } });

  test('sends beyond the queue bound are refused with UNAVAILABLE and retryAfterMs, and change nothing', async () => {
    const owner = await registerUser(node);
    const roomId = await createRoom(node, owner);
    const { socket } = await node.connect(owner.accessToken);
    const db = node.app.db.primary;
    const send = (id: string) => socket.emitWithAck('message:send', { id, roomId, content: id });

    // Another transaction holds the room's row, so the first batch cannot commit until it ends.
    const hold = await holdRoomRow(node, roomId);

    const ids = Array.from({ length: MAX_QUEUE + 3 }, () => randomUUID());
    const first = send(ids[0]!);
    // Wait (bounded) until that batch is waiting for the lock: from then on, sends queue behind it.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where not granted`.execute(db);
      if (rows[0]!.n > 0) break;
      if (Date.now() > deadline) throw new Error('the first batch never waited for the room lock');
      await new Promise((r) => setImmediate(r));
    }
    const rest = ids.slice(1).map((id) => send(id));
    // The queue holds MAX_QUEUE; the sends after them are answered at once, while the database is still stuck.
    const refused = await Promise.all(rest.slice(MAX_QUEUE));
    for (const ack of refused) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
      expect(ack.ok === false && ack.error.retryAfterMs).toBeGreaterThan(0);
    }

    await hold.release();
    const acks = await Promise.all([first, ...rest.slice(0, MAX_QUEUE)]);
    expect(acks.map((a) => (a.ok ? a.message.seq : a.error.code))).toEqual([1, 2, 3, 4]);

    // Nothing of the refused sends was stored: their retry is a new message.
    const history = await http<{ messages: { id: string }[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: owner.accessToken });
    expect(history.body.messages.map((m) => m.id)).toEqual(ids.slice(0, MAX_QUEUE + 1));
    const retried = await send(ids[MAX_QUEUE + 1]!);
    expect(retried.ok && retried.message.seq).toBe(5);
  });
});
