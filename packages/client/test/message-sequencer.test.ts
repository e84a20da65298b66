import { randomUUID } from 'node:crypto';
import type { Message } from '@chat/protocol';
import { MessageSequencer } from '@chat/client';

const msg = (seq: number, roomId = 'r1', id = randomUUID()): Message => ({
  id,
  roomId,
  seq,
  senderId: 'u1',
  senderName: 'alice',
  content: `m${seq}`,
  createdAt: new Date(0).toISOString(),
});
const seqs = (ms: Message[]) => ms.map((m) => m.seq);

describe('MessageSequencer', () => {
  test('remembers the ids of the last 2,000 delivered messages of a room, and forgets older ones', () => {
    const s = new MessageSequencer();
    s.seed('r1', 0);
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` as const;
    const delivered = Array.from({ length: 2001 }, (_, i) => msg(i + 1, 'r1', id(i + 1)));
    for (const m of delivered) expect(seqs(s.accept(m))).toEqual([m.seq]);
    // A copy of a remembered id is dropped even above the cursor (a copy under another seq);
    // id(1) fell out of the last 2,000, so only the seq check would stop it, and here it cannot.
    expect(seqs(s.accept(msg(2002, 'r1', id(2))))).toEqual([]);
    expect(seqs(s.accept(msg(2002, 'r1', id(1))))).toEqual([2002]);
  });

  test('holds messages behind a gap and releases them in order once sync fills it', () => {
    const s = new MessageSequencer();
    const [m1, m2, m3, m4, m5] = [1, 2, 3, 4, 5].map((n) => msg(n));
    expect(seqs(s.seed('r1', 0))).toEqual([]);
    expect(seqs(s.accept(m1!))).toEqual([1]);
    expect(seqs(s.accept(m4!))).toEqual([]);
    expect(seqs(s.accept(m5!))).toEqual([]);
    expect(s.hasGap('r1')).toBe(true);
    expect(s.cursor('r1')).toBe(1);
    // The sync answer overlaps what is held: 4 and 5 come once, in order after 2 and 3.
    expect(seqs(s.applySync('r1', [m2!, m3!, m4!, m5!], 5))).toEqual([2, 3, 4, 5]);
    expect(s.hasGap('r1')).toBe(false);
    expect(s.cursor('r1')).toBe(5);
  });

  test('de-duplicates live and synced copies by id and seq', () => {
    const s = new MessageSequencer();
    s.seed('r1', 0);
    const m1 = msg(1);
    const m2 = msg(2);
    expect(seqs(s.accept(m1))).toEqual([1]);
    expect(seqs(s.accept({ ...m1 }))).toEqual([]);
    expect(seqs(s.applySync('r1', [m1, m2], 2))).toEqual([2]);
    expect(seqs(s.accept(m2))).toEqual([]);
    // Held duplicates are not released twice either.
    const m4 = msg(4);
    s.accept(m4);
    s.accept({ ...m4 });
    expect(seqs(s.accept(msg(3)))).toEqual([3, 4]);
  });

  test('without a base, sync fixes it just below the lowest seq seen (server-side cursor)', () => {
    const s = new MessageSequencer();
    // A live message arrives before the first sync: it is held, not guessed to be the start.
    expect(seqs(s.accept(msg(43)))).toEqual([]);
    expect(s.hasGap('r1')).toBe(true);
    expect(seqs(s.applySync('r1', [msg(41), msg(42)], 42))).toEqual([41, 42, 43]);
    expect(s.cursor('r1')).toBe(43);
  });

  test('an empty sync of an unknown room starts at the room lastSeq, and rooms are independent', () => {
    const s = new MessageSequencer();
    expect(seqs(s.applySync('a', [], 17))).toEqual([]);
    expect(s.cursor('a')).toBe(17);
    expect(seqs(s.accept(msg(18, 'a')))).toEqual([18]);
    expect(seqs(s.accept(msg(1, 'b')))).toEqual([]);
    expect(s.cursor('b')).toBeUndefined();
    expect(s.knownRooms()).toEqual(['a']);
  });

  test('forceRelease delivers what is held in order and still delivers a late seq from the skipped gap', () => {
    const s = new MessageSequencer();
    s.seed('r1', 1);
    s.accept(msg(4));
    s.accept(msg(3));
    expect(seqs(s.forceRelease('r1'))).toEqual([3, 4]);
    expect(seqs(s.accept(msg(2)))).toEqual([2]);
    expect(seqs(s.accept(msg(2)))).toEqual([]);
    expect(seqs(s.accept(msg(5)))).toEqual([5]);
  });

  test('any arrival order of a gapless range is released exactly once and ascending', () => {
    const s = new MessageSequencer();
    s.seed('r1', 0);
    const all = Array.from({ length: 50 }, (_, i) => msg(i + 1));
    // Deterministic shuffle with duplicates.
    const arrivals = [...all, ...all.slice(10, 20)].sort((a, b) => ((a.seq * 7919) % 53) - ((b.seq * 7919) % 53));
    const out = arrivals.flatMap((m) => s.accept(m));
    expect(seqs(out)).toEqual(all.map((m) => m.seq));
  });
});
