import { nextDelay } from '@chat/client';

describe('nextDelay', () => {
  const opts = { baseMs: 100, maxMs: 5000 };

  test('stays within [0, min(maxMs, baseMs * 2^attempt)] and is jittered', () => {
    for (const attempt of [0, 1, 3, 6, 10, 60, 5000]) {
      const cap = Math.min(5000, 100 * 2 ** attempt);
      const samples = Array.from({ length: 1000 }, () => nextDelay(attempt, opts));
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...samples)).toBeLessThanOrEqual(cap);
      expect(new Set(samples).size).toBeGreaterThan(1);
      for (const s of samples) expect(Number.isFinite(s)).toBe(true);
    }
  });

  test('the window grows exponentially, then is capped', () => {
    const top = (attempt: number) => nextDelay(attempt, { ...opts, random: () => 0.999999 });
    expect(top(0)).toBe(100);
    expect(top(1)).toBe(200);
    expect(top(4)).toBe(1600);
    expect(top(6)).toBe(5000);
    expect(top(1000)).toBe(5000);
    expect(nextDelay(3, { ...opts, random: () => 0 })).toBe(0);
  });

  test('honours a hint as a floor: max(hint, jittered)', () => {
    expect(nextDelay(0, { ...opts, random: () => 0.5 }, 800)).toBe(800);
    expect(nextDelay(10, { ...opts, random: () => 0.999999 }, 800)).toBe(5000);
    const samples = Array.from({ length: 1000 }, () => nextDelay(8, opts, 1200));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(1200);
    expect(Math.max(...samples)).toBeLessThanOrEqual(5000);
  });

  test('the jitter share narrows the random part of the window (equal jitter at 0.5, none at 0)', () => {
    const samples = Array.from({ length: 1000 }, () => nextDelay(4, { ...opts, jitter: 0.5 }));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...samples)).toBeLessThanOrEqual(1600);
    expect(new Set(samples).size).toBeGreaterThan(1);
    expect(nextDelay(4, { ...opts, jitter: 0 })).toBe(1600);
  });
});
