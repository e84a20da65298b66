import { prefixOffsets, rowAt, visibleRange } from '../src/chat/list-window';

describe('list windowing arithmetic', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `m${i}`);

  test('offsets use measured heights where known and the estimate elsewhere', () => {
    const offsets = prefixOffsets(['a', 'b', 'c'], new Map([['b', 100]]), 50);
    expect([...offsets]).toEqual([0, 50, 150, 200]);
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 49.9)).toBe(0);
    expect(rowAt(offsets, 50)).toBe(1);
    expect(rowAt(offsets, 199)).toBe(2);
    expect(rowAt(offsets, 10_000)).toBe(2);
  });

  test('10,000 rows: only the viewport and its overscan are rendered, wherever the viewport is', () => {
    const offsets = prefixOffsets(keys, new Map(), 60);
    for (const top of [0, 123_456, 599_000 - 800]) {
      const { start, end } = visibleRange(offsets, top, 800, 600);
      expect(end - start).toBeLessThanOrEqual(Math.ceil((800 + 2 * 600) / 60) + 2);
      expect(offsets[start]!).toBeLessThanOrEqual(Math.max(0, top - 600));
      expect(offsets[end]!).toBeGreaterThanOrEqual(Math.min(offsets[keys.length]!, top + 800 + 600));
    }
    expect(visibleRange(offsets, 599_200, 800, 600).end).toBe(10_000);
    expect(visibleRange(prefixOffsets([], new Map(), 60), 0, 800, 600)).toEqual({ start: 0, end: 0 });
  });
});
