import { SLOW_SLOTS_KEPT, slowSlots } from '../src/load/slow-slots';

describe('slow send slots', () => {
  const windowStart = 1_700_000_000_000;
  const slot = (offsetMs: number) => String(Math.floor((windowStart + offsetMs) / 100));

  test('keeps only slots with deliveries over the bar, from the window start, in time order', () => {
    const slots = {
      [slot(3_200)]: { count: 2520, slow: 412, maxMs: 245.4 },
      [slot(0)]: { count: 2600, slow: 0, maxMs: 40 },
      [slot(1_100)]: { count: 2480, slow: 3, maxMs: 101.2 },
    };
    expect(slowSlots(slots, windowStart)).toEqual([
      { atSeconds: 1.1, deliveries: 2480, slow: 3, maxMs: 101 },
      { atSeconds: 3.2, deliveries: 2520, slow: 412, maxMs: 245 },
    ]);
  });

  test('keeps the worst slots by their slow deliveries when there are more than it keeps', () => {
    const slots = Object.fromEntries(Array.from({ length: SLOW_SLOTS_KEPT + 5 }, (_, i) => [slot(i * 100), { count: 100, slow: i + 1, maxMs: 150 }]));
    const kept = slowSlots(slots, windowStart);
    expect(kept).toHaveLength(SLOW_SLOTS_KEPT);
    expect(kept[0]).toEqual({ atSeconds: 0.5, deliveries: 100, slow: 6, maxMs: 150 });
    expect(kept.map((s) => s.slow)).toEqual(Array.from({ length: SLOW_SLOTS_KEPT }, (_, i) => i + 6));
  });
});
