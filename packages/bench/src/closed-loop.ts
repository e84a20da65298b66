import { performance } from 'node:perf_hooks';
import { LatencySamples } from './stats';

export interface ClosedLoopOptions {
  /** Independent loops, each with exactly one operation outstanding. */
  lanes: number;
  warmupMs: number;
  durationMs: number;
  /** One operation of `lane`; resolves with how many messages it persisted. */
  operation: (lane: number) => Promise<number>;
  /** Called when the measured window opens and closes (e.g. to snapshot server counters). */
  onWindowStart?: () => Promise<void>;
  onWindowEnd?: () => Promise<void>;
}

export interface ClosedLoopResult {
  /** Messages whose operation completed inside the window. */
  messagesInWindow: number;
  windowSeconds: number;
  messagesPerSecond: number;
  /** Per message, for operations that started inside the window (completions after it are waited for). */
  latency: LatencySamples;
  /** Messages acknowledged over the whole run: warm-up, window and drain. */
  messagesTotal: number;
  errors: number;
  firstError: string | undefined;
}

/**
 * A closed loop: each lane starts its next operation only when the previous one completed, so the offered
 * load adapts to the system instead of queueing without bound (an open loop on a saturated box measures
 * the queue, not the system). Throughput counts completions inside the window; latency counts operations
 * that started inside it, so a slow tail at the window's end is not cut off.
 */
export async function runClosedLoop(opts: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const latency = new LatencySamples();
  const startedAt = performance.now();
  const windowStart = startedAt + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  let messagesInWindow = 0;
  let messagesTotal = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopping = false;

  async function lane(index: number): Promise<void> {
    while (!stopping) {
      const t0 = performance.now();
      try {
        const n = await opts.operation(index);
        const t1 = performance.now();
        messagesTotal += n;
        if (t1 >= windowStart && t1 < windowEnd) messagesInWindow += n;
        if (t0 >= windowStart && t0 < windowEnd) latency.add(t1 - t0, n);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        // A failing system must not turn the loop into a busy spin.
        await sleep(50);
      }
    }
  }

  const lanes = Array.from({ length: opts.lanes }, (_, i) => lane(i));
  await sleep(windowStart - performance.now());
  const snapshotStart = opts.onWindowStart?.();
  await sleep(windowEnd - performance.now());
  const snapshotEnd = opts.onWindowEnd?.();
  stopping = true;
  await Promise.all([snapshotStart, snapshotEnd, ...lanes]);
  const windowSeconds = opts.durationMs / 1000;
  return {
    messagesInWindow,
    windowSeconds,
    messagesPerSecond: messagesInWindow / windowSeconds,
    latency,
    messagesTotal,
    errors,
    firstError,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
