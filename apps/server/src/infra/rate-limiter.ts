import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type RateLimitDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

/** A fixed-window budget per key. Implementations: in-process memory (embedded), Redis (cluster-wide). */
export interface RateLimiter {
  /**
   * Takes `points` if the window has them left. A refusal leaves no trace: a client that retries while over
   * budget is not kept out beyond the window, and a herd of refusals writes nothing.
   */
  consume(key: string, points?: number): Promise<RateLimitDecision>;
  /** Gives points back, e.g. when the attempt turned out not to count (a retry of a stored message). */
  refund(key: string, points?: number): Promise<void>;
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
      return { allowed: false, retryAfterMs: Math.max(1, rejection.msBeforeNext) };
    }
  }

  async refund(key: string, points = 1): Promise<void> {
    await this.limiter.reward(key, points);
  }
}

/**
 * rate-limiter-flexible's memory store counts a refused attempt like an allowed one; this one gives it back as
 * soon as the refusal comes back (a microtask later: the memory store answers at once), so a refusal leaves no
 * trace (RateLimiter's contract).
 */
class RefusalFreeMemoryLimiter extends RateLimiterMemory {
  override async consume(key: string | number, points = 1, options?: object): Promise<RateLimiterRes> {
    try {
      return await super.consume(key, points, options);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) await super.reward(key, points);
      throw rejection;
    }
  }
}

const memoryLimiter = (opts: RateLimitOptions) => new RefusalFreeMemoryLimiter({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.durationSec });

export const memoryRateLimiters: RateLimiterFactory = (opts) => new FlexibleRateLimiter(memoryLimiter(opts));

/**
 * rate-limiter-flexible's script for Redis, changed to take points only while the window has them: a refused
 * attempt reads its window and writes nothing (the library's own script adds the points whatever the answer,
 * and a refusal then cost a second command to give them back). Its answer is the library's: the points the
 * window would hold with this attempt's, and the window's TTL, so the library refuses above the budget as
 * before. A negative amount (a refund) is always applied. The library defines it as one command (EVALSHA)
 * on the connection, shared by every budget made on it.
 */
const TAKE_WITHIN_BUDGET = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local points = tonumber(ARGV[1])
local consumed = tonumber(redis.call('get', KEYS[1])) + points
if points < 0 or consumed <= tonumber(ARGV[3]) then
  redis.call('incrby', KEYS[1], points)
end
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

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
        customIncrTtlLuaScript: TAKE_WITHIN_BUDGET,
        insuranceLimiter: memoryLimiter(opts),
      }),
    );
  };
}
