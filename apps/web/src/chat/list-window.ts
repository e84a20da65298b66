/**
 * The arithmetic of a windowed list with rows of different heights: only the rows that intersect the
 * viewport (plus an overscan margin) are rendered; spacers stand in for the others. Heights are measured
 * once a row has been rendered and estimated until then.
 *
 * Hand-written because the project takes no new dependency for it, and because a chat log needs one thing
 * generic virtualisers make awkward: anchoring on a row while older pages are prepended above it.
 */

/** offsets[i] is the top of row i; offsets[n] is the total height. */
export function prefixOffsets(keys: readonly string[], heights: ReadonlyMap<string, number>, estimate: number): Float64Array {
  const offsets = new Float64Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) offsets[i + 1] = offsets[i]! + (heights.get(keys[i]!) ?? estimate);
  return offsets;
}

/** The first row whose bottom is below `y` (binary search; offsets ascend). */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid + 1]! <= y) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, Math.max(0, n - 1));
}

export interface Range {
  /** First rendered row. */
  start: number;
  /** One past the last rendered row. */
  end: number;
}

/** Rows to render for a viewport at `scrollTop` (relative to the first row) of `height`, with `overscan` px. */
export function visibleRange(offsets: Float64Array, scrollTop: number, height: number, overscan: number): Range {
  const n = offsets.length - 1;
  if (n === 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, scrollTop - overscan));
  const end = rowAt(offsets, scrollTop + height + overscan) + 1;
  return { start, end: Math.min(n, Math.max(end, start + 1)) };
}
