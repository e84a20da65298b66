import type { RateLimiter, RateLimiterFactory, RateLimitWindow } from '../../infra/rate-limiter';

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
 * A rejected attempt leaves no trace in either budget. Most attempts in a herd are rejections, so the
 * budgets are first read (`get`, no write): an attempt over either budget is refused without touching
 * anything. Only an attempt both reads admit consumes, in both budgets at once; if a concurrent attempt
 * took the last point meanwhile, whatever this attempt consumed is given back (`reward`). Consuming first
 * and rewarding every refusal would also end even, but each refused attempt would write twice and, between
 * its write and its reward, count against attempts that are within budget; and a limiter that kept
 * rejected attempts (or blocked on them) would lock out exactly the clients that retry.
 */
export class ConnectionLimiter {
  private readonly node: RateLimiter;
  private readonly ip: RateLimiter;
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
    this.node = options.limiters({ keyPrefix: 'admission:node', points: this.nodePoints, durationSec: options.windowSeconds, scope: options.nodeScope });
    this.ip = options.limiters({ keyPrefix: 'admission:ip', points: this.ipPoints, durationSec: options.windowSeconds });
  }

  /** Admits a handshake from `ipBucket`, or says why not and when to retry. Throws if no store answers. */
  async admit(ipBucket: string): Promise<Admission> {
    const nodeKey = this.options.nodeId;
    const [ipNow, nodeNow] = await Promise.all([this.ip.peek(ipBucket), this.node.peek(nodeKey)]);
    if (exhausted(ipNow, this.ipPoints)) return this.reject('ip_budget', ipNow.msBeforeNext);
    if (exhausted(nodeNow, this.nodePoints)) return this.reject('node_budget', nodeNow.msBeforeNext);

    // A refused consume gives its point back by itself (RateLimiter's contract); a store error throws.
    const [ipTaken, nodeTaken] = await Promise.allSettled([this.ip.consume(ipBucket), this.node.consume(nodeKey)]);
    const ipAllowed = ipTaken.status === 'fulfilled' && ipTaken.value.allowed;
    const nodeAllowed = nodeTaken.status === 'fulfilled' && nodeTaken.value.allowed;
    if (ipAllowed && nodeAllowed) return { admitted: true };
    const refunds: Promise<unknown>[] = [];
    if (ipAllowed) refunds.push(this.ip.refund(ipBucket));
    if (nodeAllowed) refunds.push(this.node.refund(nodeKey));
    await Promise.all(refunds);
    if (ipTaken.status === 'rejected') throw ipTaken.reason;
    if (nodeTaken.status === 'rejected') throw nodeTaken.reason;
    if (!ipTaken.value.allowed) return this.reject('ip_budget', ipTaken.value.retryAfterMs);
    if (!nodeTaken.value.allowed) return this.reject('node_budget', nodeTaken.value.retryAfterMs);
    return { admitted: true };
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

function exhausted(state: RateLimitWindow | undefined, points: number): state is RateLimitWindow {
  // A memory record may outlive its window by a timer tick; an expired window is a fresh one.
  return state !== undefined && state.msBeforeNext > 0 && state.consumed >= points;
}
