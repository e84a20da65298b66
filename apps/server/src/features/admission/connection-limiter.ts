import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type RejectReason = 'node_budget' | 'ip_budget';
export type Admission = { admitted: true } | { admitted: false; reason: RejectReason; retryAfterMs: number };

export interface ConnectionLimiterOptions {
  /** Cluster-wide counters; without it, this process counts alone (embedded mode). */
  redis: Redis | undefined;
  /** The node whose budget this is: every worker of the node shares it through Redis. */
  nodeId: string;
  nodePerSecond: number;
  ipPerSecond: number;
  /** Budgets are counted in fixed windows of this length (whole seconds: Redis expiries are in seconds). */
  windowSeconds: number;
  /** Longest spread of retry hints, in windows. */
  maxSpreadWindows?: number;
  random?: () => number;
}

/**
 * Handshake admission (DESIGN.md, "Thundering herd"): at most `nodePerSecond` new connections per node and
 * `ipPerSecond` per client address, in fixed windows (rate-limiter-flexible: the window's expiry is set
 * when its key is created and never moved; no block duration).
 *
 * A rejected attempt leaves no trace in either budget. Most attempts in a herd are rejections, so the
 * budgets are first read (`get`, no write): an attempt over either budget is refused without touching
 * anything. Only an attempt both reads admit consumes, in both budgets at once; if a concurrent attempt
 * took the last point meanwhile, whatever this attempt consumed is given back (`reward`). Consuming first
 * and rewarding every refusal would also end even, but each refused attempt would write twice and, between
 * its write and its reward, count against attempts that are within budget; and a limiter that kept
 * rejected attempts (or blocked on them) would lock out exactly the clients that retry.
 */
export class ConnectionLimiter {
  private readonly node: RateLimiterAbstract;
  private readonly ip: RateLimiterAbstract;
  private readonly nodePoints: number;
  private readonly ipPoints: number;
  private readonly windowMs: number;
  private readonly random: () => number;
  /** This process's node-budget rejections in its current window, to size the retry spread. */
  private rejections = { window: 0, count: 0 };

  constructor(private readonly options: ConnectionLimiterOptions) {
    this.nodePoints = Math.max(1, Math.round(options.nodePerSecond * options.windowSeconds));
    this.ipPoints = Math.max(1, Math.round(options.ipPerSecond * options.windowSeconds));
    this.windowMs = options.windowSeconds * 1000;
    this.random = options.random ?? Math.random;
    this.node = limiter(options.redis, 'admission:node', this.nodePoints, options.windowSeconds);
    this.ip = limiter(options.redis, 'admission:ip', this.ipPoints, options.windowSeconds);
  }

  /** Admits a handshake from `ipBucket`, or says why not and when to retry. Throws if no store answers. */
  async admit(ipBucket: string): Promise<Admission> {
    const nodeKey = this.options.nodeId;
    const [ipNow, nodeNow] = await Promise.all([this.ip.get(ipBucket), this.node.get(nodeKey)]);
    if (exhausted(ipNow, this.ipPoints)) return this.reject('ip_budget', ipNow.msBeforeNext);
    if (exhausted(nodeNow, this.nodePoints)) return this.reject('node_budget', nodeNow.msBeforeNext);

    const [ipTaken, nodeTaken] = await Promise.allSettled([this.ip.consume(ipBucket), this.node.consume(nodeKey)]);
    if (ipTaken.status === 'fulfilled' && nodeTaken.status === 'fulfilled') return { admitted: true };
    // A refusal (RateLimiterRes) still incremented its counter; a store error did not.
    const refunds: Promise<unknown>[] = [];
    if (ipTaken.status === 'fulfilled' || ipTaken.reason instanceof RateLimiterRes) refunds.push(this.ip.reward(ipBucket));
    if (nodeTaken.status === 'fulfilled' || nodeTaken.reason instanceof RateLimiterRes) refunds.push(this.node.reward(nodeKey));
    await Promise.all(refunds);
    for (const taken of [ipTaken, nodeTaken]) {
      if (taken.status === 'rejected' && !(taken.reason instanceof RateLimiterRes)) throw taken.reason;
    }
    if (ipTaken.status === 'rejected') return this.reject('ip_budget', (ipTaken.reason as RateLimiterRes).msBeforeNext);
    return this.reject('node_budget', (nodeTaken as PromiseRejectedResult & { reason: RateLimiterRes }).reason.msBeforeNext);
  }

  /**
   * The hint is the rest of the window plus a random share of a spread, so the refused do not all come
   * back at the same instant. The node's spread grows with the backlog it sees: n rejections in a window
   * need n / budget windows to be admitted, so telling them all "next window" would only repeat the herd.
   */
  private reject(reason: RejectReason, msBeforeNext: number): Admission {
    let spreadWindows = 1;
    if (reason === 'node_budget') {
      const window = Math.floor(Date.now() / this.windowMs);
      if (this.rejections.window !== window) this.rejections = { window, count: 0 };
      this.rejections.count++;
      spreadWindows = Math.min(this.options.maxSpreadWindows ?? 30, Math.ceil(this.rejections.count / this.nodePoints));
    }
    const rest = Math.max(1, Math.min(msBeforeNext, this.windowMs));
    return { admitted: false, reason, retryAfterMs: rest + Math.floor(this.random() * spreadWindows * this.windowMs) };
  }
}

function exhausted(state: RateLimiterRes | null, points: number): state is RateLimiterRes {
  // A memory record may outlive its window by a timer tick; an expired window is a fresh one.
  return state !== null && state.msBeforeNext > 0 && state.consumedPoints >= points;
}

function limiter(redis: Redis | undefined, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  if (!redis) return memory;
  // While Redis is down, each process falls back to counting alone with the same budgets (insurance),
  // instead of refusing everyone or admitting everyone.
  return new RateLimiterRedis({ storeClient: redis, keyPrefix: `rl:${keyPrefix}`, points, duration, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}
