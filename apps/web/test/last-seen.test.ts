import { LastSeen, lastSeenText } from '../src/chat/last-seen';

describe('last seen', () => {
  const now = Date.parse('2026-12-04T12:00:00.000Z');
  test('in words', () => {
    expect(lastSeenText('2026-12-04T11:59:30.000Z', now)).toBe('last seen just now');
    expect(lastSeenText('2026-12-04T11:55:00.000Z', now)).toBe('last seen 5 min ago');
    expect(lastSeenText('2026-12-04T09:00:00.000Z', now)).toBe('last seen 3 h ago');
    expect(lastSeenText('2026-11-12T09:00:00.000Z', now)).toMatch(/^last seen on /);
  });

  test('asks once for unknown users, records answers and events, and asks again after a failure', async () => {
    const calls: string[][] = [];
    let fail = true;
    const store = new LastSeen(async (ids) => {
      calls.push(ids);
      if (fail) throw new Error('not connected');
      return ids.map((userId) => (userId === 'a' ? { userId, online: false, lastSeen: '2026-12-04T11:00:00.000Z' } : { userId, online: true }));
    });
    let changes = 0;
    store.subscribe(() => changes++);
    store.want(['a', 'b']);
    await new Promise((r) => setImmediate(r));
    fail = false;
    store.want(['a', 'b']);
    store.want(['a', 'b']);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(store.of('a')).toBe('2026-12-04T11:00:00.000Z');
    expect(store.of('b')).toBeUndefined();
    store.record('b', false, '2026-12-04T11:30:00.000Z');
    expect(store.of('b')).toBe('2026-12-04T11:30:00.000Z');
    expect(changes).toBe(2);
  });
});
