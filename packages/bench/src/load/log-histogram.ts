/**
 * A latency histogram with logarithmic buckets (1 % wide), mergeable across processes: each load driver
 * keeps one and ships its buckets (a sparse map, a few hundred entries) instead of every sample. A
 * percentile is reported as the upper edge of its bucket, so it is at most 1 % above the real sample.
 * Values below 10 µs share bucket 0.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const FLOOR_MS = 0.01;

export interface HistogramJson {
  /** bucket index → count */
  buckets: Record<string, number>;
  count: number;
  max: number;
  sum: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class LogHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private maximum = 0;
  private sum = 0;

  static from(json: HistogramJson): LogHistogram {
    const h = new LogHistogram();
    h.merge(json);
    return h;
  }

  get count(): number {
    return this.total;
  }

  record(ms: number): void {
    const value = Math.max(0, ms);
    const index = value <= FLOOR_MS ? 0 : Math.ceil(Math.log(value / FLOOR_MS) / LOG_GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.total++;
    this.sum += value;
    if (value > this.maximum) this.maximum = value;
  }

  merge(other: HistogramJson | LogHistogram): void {
    const json = other instanceof LogHistogram ? other.toJSON() : other;
    for (const [key, n] of Object.entries(json.buckets)) {
      const index = Number(key);
      this.buckets.set(index, (this.buckets.get(index) ?? 0) + n);
    }
    this.total += json.count;
    this.sum += json.sum;
    if (json.max > this.maximum) this.maximum = json.max;
  }

  /** Nearest rank over buckets: the upper edge of the bucket holding the p-th percent sample (capped at max). */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (seen >= rank) return Math.min(this.maximum, FLOOR_MS * GROWTH ** index);
    }
    return this.maximum;
  }

  summary(): Percentiles {
    return {
      count: this.total,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.total === 0 ? Number.NaN : this.maximum,
      mean: this.total === 0 ? Number.NaN : this.sum / this.total,
    };
  }

  toJSON(): HistogramJson {
    return { buckets: Object.fromEntries(this.buckets), count: this.total, max: this.maximum, sum: this.sum };
  }
}
