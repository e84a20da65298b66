import { randomUUID } from 'node:crypto';
import { LIMITS, type Ack } from '@chat/protocol';
import { createRoom, holdRoomRow, joinRoom, nextEvent, registerUser, type RawSocket } from './support/harness';
import { useNode } from './support/node-fixture';

// Every socket event class has a per-user budget (LIMITS.eventsPerSecond) and every socket a cap on events
// in flight: a flood is answered RATE_LIMITED with retryAfterMs, and an honest member of the same room,
// doing the same things at a normal pace in the same moment, is unaffected and loses nothing.

type Flood = { name: keyof typeof LIMITS.eventsPerSecond; emit: (s: RawSocket, ctx: Ctx) => Promise<Ack> };
type Ctx = { roomId: string; messageId: string; userIds: string[] };

const FLOODS: Flood[] = [
  { name: 'edit', emit: (s, c) => s.emitWithAck('message:edit', { id: c.messageId, content: `edit ${randomUUID()}` }) },
  { name: 'reaction', emit: (s, c) => s.emitWithAck('reaction:add', { messageId: c.messageId, emoji: '👍' }) },
  { name: 'receipt', emit: (s, c) => s.emitWithAck('message:read', { roomId: c.roomId, seq: 1 }) },
  { name: 'typing', emit: (s, c) => s.emitWithAck('typing', { roomId: c.roomId, typing: true }) },
  { name: 'sync', emit: (s, c) => s.emitWithAck('sync', { rooms: [{ roomId: c.roomId }] }) },
  { name: 'presence', emit: (s, c) => s.emitWithAck('presence:get', { userIds: c.userIds }) },
];

describe('socket event budgets', () => {
  const node = useNode('postgres', { env: { MESSAGES_PER_SECOND: '1000' } });

  async function roomOfTwo() {
    const [attacker, honest] = [await registerUser(node, 'flood'), await registerUser(node, 'honest')];
    const roomId = await createRoom(node, attacker);
    await joinRoom(node, honest, roomId);
    const a = (await node.connect(attacker.accessToken)).socket;
    const h = (await node.connect(honest.accessToken)).socket;
    return { attacker, honest, roomId, a, h };
  }

  test.each(FLOODS)('a flood of $name events is refused over budget; an honest member is unaffected', async ({ name, emit }) => {
    const { attacker, honest, roomId, a, h } = await roomOfTwo();
    const ownMessage = async (s: RawSocket, content: string) => {
      const ack = await s.emitWithAck('message:send', { id: randomUUID(), roomId, content });
      if (!ack.ok) throw new Error(`send failed: ${ack.error.code}`);
      return ack.message;
    };
    const attackers = { roomId, messageId: (await ownMessage(a, 'mine')).id, userIds: [attacker.user.id, honest.user.id] };
    const honests = { ...attackers, messageId: (await ownMessage(h, 'mine too')).id };

    const budget = LIMITS.eventsPerSecond[name];
    const flood = Array.from({ length: budget * 4 }, () => emit(a, attackers));
    const fair = [emit(h, honests), emit(h, honests)];
    const [floodAcks, fairAcks] = await Promise.all([Promise.all(flood), Promise.all(fair)]);

    const refused = floodAcks.filter((r) => !r.ok);
    // At most two fixed windows' worth got through (the flood may straddle a window's end).
    expect(floodAcks.length - refused.length).toBeLessThanOrEqual(2 * budget);
    expect(refused.length).toBeGreaterThanOrEqual(2 * budget);
    for (const r of refused) {
      if (r.ok) throw new Error('unreachable');
      expect(r.error.code).toBe('RATE_LIMITED');
      expect(r.error.retryAfterMs).toBeGreaterThan(0);
      expect(r.error.retryAfterMs).toBeLessThanOrEqual(1000);
    }
    expect(fairAcks.map((r) => r.ok)).toEqual([true, true]);
    // ...and the honest member's messages still go through and reach the flooding one.
    const heard = nextEvent(a, 'message:new', (m) => m.content === 'after the flood');
    await ownMessage(h, 'after the flood');
    expect((await heard).senderId).toBe(honest.user.id);
  });

  test('events in flight on one socket are capped; the rest are RATE_LIMITED and the held ones complete', async () => {
    const { roomId, a } = await roomOfTwo();
    // Another transaction holds the room's row, so the first send's batch waits, and later sends wait for it.
    const hold = await holdRoomRow(node, roomId);

    const cap = LIMITS.eventsInFlightPerSocket;
    const held = Array.from({ length: cap }, (_, i) => a.emitWithAck('message:send', { id: randomUUID(), roomId, content: `held ${i}` }));
    // The socket's events are handled in order, so these arrive while the first `cap` are still in flight.
    const over = await Promise.all(Array.from({ length: 5 }, () => a.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'over' })));
    for (const r of over) expect(r).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } });

    await hold.release();
    const acks = await Promise.all(held);
    expect(acks.map((r) => (r.ok ? r.message.seq : r.error.code))).toEqual(Array.from({ length: cap }, (_, i) => i + 1));
    // Room again: the next send is accepted.
    const after = await a.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'after' });
    expect(after.ok && after.message.seq).toBe(cap + 1);
  });
});
