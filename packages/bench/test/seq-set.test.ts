import { SeqSet } from '../src/load/seq-set';

describe('SeqSet', () => {
  test('add answers whether a seq is new, per room, across growth', () => {
    const seen = new SeqSet();
    expect(seen.add('r1', 1)).toBe(true);
    expect(seen.add('r1', 1)).toBe(false);
    expect(seen.has('r1', 1)).toBe(true);
    expect(seen.has('r2', 1)).toBe(false);
    expect(seen.add('r2', 1)).toBe(true);
    // Far beyond the first buffer: the buffer grows and keeps what it held.
    expect(seen.add('r1', 100_000)).toBe(true);
    expect(seen.has('r1', 1)).toBe(true);
    expect(seen.has('r1', 99_999)).toBe(false);
    expect(seen.add('r1', 100_000)).toBe(false);
  });

  test('every seq of a dense run is kept, and nothing else', () => {
    const seen = new SeqSet();
    for (let seq = 0; seq < 5_000; seq += 3) expect(seen.add('r', seq)).toBe(true);
    for (let seq = 0; seq < 5_001; seq++) expect(seen.has('r', seq)).toBe(seq % 3 === 0);
  });

  test('a seq that is not a non-negative integer is refused', () => {
    expect(() => new SeqSet().add('r', -1)).toThrow(RangeError);
    expect(() => new SeqSet().add('r', 1.5)).toThrow(RangeError);
  });
});
