import type { RateLimiter, RateLimiterFactory } from '../../infra/rate-limiter';

export type RejectReason = 'node_budget' | 'ip_budget';
export type Admission = { admitted: true } | { admitted: false; reason: RejectReason; retryAfterMs: number };

export interface ConnectionLimiterOptions {
  /** The node's limiter factory: cluster-wide counters in cluster mode, this process's own in embedded mode. */
  limiters: RateLimiterFactory;
  /** The node whose budget this is. */
  nodeId: string;
  /**
   * Where the node's budget is counted: `node` (this process's memory) for a node of one process, `cluster`
   * (the factory's store: Redis in cluster mode) when several workers of one node must share it.
   */
  nodeScope: 'node' | 'cluster';
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
 * `ipPerSecond` per client address, in fixed windows (the node's `RateLimiterFactory`: the window's expiry is
 * set when its key is created and never moved; no block duration).
 *
 * A rejected attempt leaves no trace in either budget: a refused `consume` writes nothing (RateLimiter's
 * contract; in Redis one command that reads the window and takes a point only if it has one left), and a
 * limiter that kept rejected attempts would lock out exactly the clients that retry. The node's budget is
 * taken first: with one process a node it is this process's memory, and most attempts in a herd are refused
 * by it without a Redis command at all. Only then the client address's (Redis, cluster-wide): one command for
 * an admitted handshake (it was a read, then a write); if it refuses, the node's point is given back.
 */
export class ConnectionLimiter {
  private readonly node: RateLimiter;
  private readonly ip: RateLimiter;
  private readonly nodePoints: number;
  private readonly windowMs: number;
  private readonly random: () => number;
  /** This process's node-budget rejections in its current window, to size the retry spread. */
  private rejections = { window: 0, count: 0 };

  constructor(private readonly options: ConnectionLimiterOptions) {
    this.nodePoints = Math.max(1, Math.round(options.nodePerSecond * options.windowSeconds));
    const ipPoints = Math.max(1, Math.round(options.ipPerSecond * options.windowSeconds));
    this.windowMs = options.windowSeconds * 1000;
    this.random = options.random ?? Math.random;
    this.node = options.limiters({ keyPrefix: 'admission:node', points: this.nodePoints, durationSec: options.windowSeconds, scope: options.nodeScope });
    this.ip = options.limiters({ keyPrefix: 'admission:ip', points: ipPoints, durationSec: options.windowSeconds });
  }

  /** Admits a handshake from `ipBucket`, or says why not and when to retry. Throws if no store answers. */
  async admit(ipBucket: string): Promise<Admission> {
    const nodeKey = this.options.nodeId;
    // A store error throws (the caller admits: refusing everyone would turn a limiter fault into an outage).
    const node = await this.node.consume(nodeKey);
    if (!node.allowed) return this.reject('node_budget', node.retryAfterMs);
    let ip;
    try {
      ip = await this.ip.consume(ipBucket);
    } catch (err) {
      await this.node.refund(nodeKey).catch(() => undefined);
      throw err;
    }
    if (ip.allowed) return { admitted: true };
    await this.node.refund(nodeKey);
    return this.reject('ip_budget', ip.retryAfterMs);
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
