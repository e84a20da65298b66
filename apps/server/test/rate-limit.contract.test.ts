import { randomUUID } from 'node:crypto';
import { testServices } from '@chat/testkit';
import { connectRaw, createRoom, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// The per-user send budget (10 messages/s by default) with the in-memory store (embedded) and the Redis
// store (REDIS_URL set), through real sockets.
const modes: [string, 'pglite' | 'postgres', Record<string, string>][] = [
  ['memory store on pglite', 'pglite', {}],
  ['redis store on postgres', 'postgres', { REDIS_URL: testServices().redisUrl }],
];

describe.each(modes)('send rate limit: %s', (_name, backend, env) => {
  const node = useNode(backend, { env });

  test('the 11th message within a second is RATE_LIMITED with retryAfterMs; a retry of a stored id too, until the window ends, and then it does not count', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    const { socket } = await connectRaw(node, user.accessToken);
    try {
      const ids = Array.from({ length: 11 }, () => randomUUID());
      const acks = await Promise.all(ids.map((id) => socket.emitWithAck('message:send', { id, roomId, content: 'spam?' })));
      const ok = acks.filter((a) => a.ok);
      const limited = acks.filter((a) => !a.ok);
      expect(ok).toHaveLength(10);
      expect(limited).toHaveLength(1);
      const refusal = limited[0]!;
      if (refusal.ok) throw new Error('unreachable');
      expect(refusal.error.code).toBe('RATE_LIMITED');
      expect(refusal.error.retryAfterMs).toBeGreaterThan(0);
      expect(refusal.error.retryAfterMs).toBeLessThanOrEqual(1000);

      // Over budget, a retry of an acknowledged id is refused like any send (no database read for a flood).
      const storedId = ids[acks.findIndex((a) => a.ok)]!;
      expect(await socket.emitWithAck('message:send', { id: storedId, roomId, content: 'spam?' })).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      // After the window the retry gets its stored message and does not count; invalid sends do not count
      // either: 10 new messages still fit in the window.
      await new Promise((r) => setTimeout(r, refusal.error.retryAfterMs! + 50));
      expect(await socket.emitWithAck('message:send', { id: storedId, roomId, content: 'spam?' })).toMatchObject({ ok: true, message: { id: storedId, content: 'spam?' } });
      for (let i = 0; i < 5; i++) {
        expect(await socket.emitWithAck('message:send', { id: 'bad', roomId, content: '' })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      }
      const again = await Promise.all(Array.from({ length: 10 }, () => socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'ok' })));
      expect(again.every((a) => a.ok)).toBe(true);
    } finally {
      socket.close();
    }
  });
});
