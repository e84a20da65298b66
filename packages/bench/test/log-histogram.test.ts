import { LogHistogram } from '../src/load/log-histogram';

// The load drivers each keep a LogHistogram and the coordinator merges them: percentiles must stay within
// the 1 % bucket width of the exact nearest-rank value, and merging must equal recording in one place.

describe('LogHistogram', () => {
  it('reports nearest-rank percentiles within 1 % above the exact sample', () => {
    const h = new LogHistogram();
    const samples = Array.from({ length: 1000 }, (_, i) => (i + 1) * 0.37); // 0.37 … 370 ms
    for (const s of samples) h.record(s);
    const exact = (p: number) => samples[Math.ceil((p / 100) * samples.length) - 1]!;
    for (const p of [50, 95, 99]) {
      expect(h.percentile(p)).toBeGreaterThanOrEqual(exact(p));
      expect(h.percentile(p)).toBeLessThanOrEqual(exact(p) * 1.01);
    }
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.max).toBe(370);
    expect(s.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / 1000, 6);
  });

  it('merged histograms (also through JSON, as over IPC) equal one histogram of all samples', () => {
    const all = new LogHistogram();
    const parts = [new LogHistogram(), new LogHistogram(), new LogHistogram()];
    for (let i = 0; i < 3000; i++) {
      const ms = ((i * 7919) % 5000) / 10;
      all.record(ms);
      parts[i % 3]!.record(ms);
    }
    const merged = new LogHistogram();
    for (const part of parts) merged.merge(JSON.parse(JSON.stringify(part.toJSON())) as ReturnType<LogHistogram['toJSON']>);
    const { mean, ...rest } = merged.summary();
    const { mean: allMean, ...allRest } = all.summary();
    expect(rest).toEqual(allRest);
    expect(mean).toBeCloseTo(allMean, 9); // sums added in another order

  });

  it('is empty-safe and keeps sub-10 µs values in the first bucket', () => {
    const h = new LogHistogram();
    expect(h.summary()).toEqual({ count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN });
    h.record(0);
    h.record(0.004);
    expect(h.percentile(100)).toBeLessThanOrEqual(0.01);
    expect(h.count).toBe(2);
  });
});
