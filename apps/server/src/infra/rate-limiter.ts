import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type RateLimitDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

/** A key's current window: points used so far and the time left until the window ends. */
export interface RateLimitWindow {
  consumed: number;
  msBeforeNext: number;
}

/** A fixed-window budget per key. Implementations: in-process memory (embedded), Redis (cluster-wide). */
export interface RateLimiter {
  consume(key: string, points?: number): Promise<RateLimitDecision>;
  /** Gives points back, e.g. when the attempt turned out not to count (a retry of a stored message). */
  refund(key: string, points?: number): Promise<void>;
  /** Reads a key's window without consuming anything; undefined when the key has no window open. */
  peek(key: string): Promise<RateLimitWindow | undefined>;
}

export interface RateLimitOptions {
  keyPrefix: string;
  points: number;
  durationSec: number;
  /**
   * `cluster` (default): one budget across every node (Redis in cluster mode). `node`: counted in this
   * node's memory even in cluster mode, for budgets checked on every hot event (sends), where a Redis round
   * trip each would cost more latency than the budget is worth: a key active on k nodes at once gets up to
   * k × the budget (ip_hash keeps one client address on one node; docs/ARCHITECTURE.md, "Budgets").
   */
  scope?: 'cluster' | 'node';
}

/** Budgets in fixed windows (rate-limiter-flexible: a window's expiry is set when its key is created and never moved). */
export type RateLimiterFactory = (opts: RateLimitOptions) => RateLimiter;

class FlexibleRateLimiter implements RateLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async consume(key: string, points = 1): Promise<RateLimitDecision> {
    try {
      const res = await this.limiter.consume(key, points);
      return { allowed: true, remaining: res.remainingPoints };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // rate-limiter-flexible counts rejected attempts too; give them back so that a client retrying while
      // over budget does not keep itself locked out beyond the current window.
      await this.limiter.reward(key, points).catch(() => {});
      return { allowed: false, retryAfterMs: Math.max(1, rejection.msBeforeNext) };
    }
  }

  async refund(key: string, points = 1): Promise<void> {
    await this.limiter.reward(key, points);
  }

  async peek(key: string): Promise<RateLimitWindow | undefined> {
    const res = await this.limiter.get(key);
    return res ? { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext } : undefined;
  }
}

export const memoryRateLimiters: RateLimiterFactory = (opts) =>
  new FlexibleRateLimiter(new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.durationSec }));

/**
 * Cluster-wide budgets in Redis. While Redis is down, an in-memory insurance limiter with the same budget
 * takes over on each node, so a Redis outage neither blocks all traffic nor lifts every limit.
 */
export function redisRateLimiters(redis: Redis): RateLimiterFactory {
  return (opts) => {
    if (opts.scope === 'node') return memoryRateLimiters(opts);
    return new FlexibleRateLimiter(
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `rl:${opts.keyPrefix}`,
        points: opts.points,
        duration: opts.durationSec,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.durationSec }),
      }),
    );
  };
}
