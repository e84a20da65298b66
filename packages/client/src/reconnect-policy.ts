import type { ChatError } from '@chat/protocol';
import { nextDelay, type BackoffOptions } from './backoff';

/** Why the socket is not connected, as far as choosing the next attempt goes. */
export type ReconnectCause =
  /** The transport closed, or an attempt failed before the server answered (node down, network). */
  | { kind: 'lost' }
  /** A server middleware refused the handshake (RATE_LIMITED, UNAVAILABLE, or UNAUTHORIZED after a refresh). */
  | { kind: 'refused'; error: ChatError }
  /** The server closed the connection on purpose (kick, logout, shutdown): Socket.IO would not come back. */
  | { kind: 'server-disconnect' }
  /** The node announced `server:draining`: come back after its (already jittered) delay. */
  | { kind: 'draining'; reconnectInMs: number };

export interface RetryPlan {
  /** Consecutive failed attempts before this one (0 after a connection was lost). */
  attempt: number;
  delayMs: number;
  cause: ReconnectCause['kind'];
}

export interface ReconnectPolicyOptions {
  backoff: BackoffOptions;
  /** Attempts without a successful connection before giving up (the app then shows "offline"). */
  maxAttempts: number;
  /**
   * A server hint (retryAfterMs, reconnectInMs) is honoured up to this much; a larger one is a bug or an
   * attack on the client, and waiting hours would look like a dead app. Default 5 minutes.
   */
  maxHintMs?: number;
}

/**
 * Decides when to try again, for every reason a connection can be missing. Pure: the socket asks, then
 * sets the timer itself. One policy for every cause means one backoff sequence, one bound and one
 * answer to "when is the next attempt" for the connection banner.
 */
export class ReconnectPolicy {
  private failures = 0;
  private readonly opts: Required<ReconnectPolicyOptions>;

  constructor(opts: ReconnectPolicyOptions) {
    this.opts = { maxHintMs: 300_000, ...opts };
  }

  /** Consecutive failed attempts since the last successful connection. */
  get attempts(): number {
    return this.failures;
  }

  /** A connection succeeded: the next loss starts from the smallest window again. */
  reset(): void {
    this.failures = 0;
  }

  /** The plan for the next attempt, or undefined when it is time to give up. */
  next(cause: ReconnectCause): RetryPlan | undefined {
    const attempt = this.failures;
    if (cause.kind === 'draining') {
      // A drain is not a failure: the node asked every client to move at its own jittered moment.
      return { attempt, delayMs: this.clampHint(cause.reconnectInMs), cause: cause.kind };
    }
    if (attempt >= this.opts.maxAttempts) return undefined;
    this.failures++;
    // A refusal with a hint (admission's RATE_LIMITED) is answered by the hint alone: the server already
    // spread its refused clients over the windows it needs to admit them all, so adding our own growing
    // window on top would only make a herd wait out stale back-off after the cluster could take it.
    if (cause.kind === 'refused' && cause.error.retryAfterMs !== undefined) {
      return { attempt, delayMs: this.clampHint(cause.error.retryAfterMs), cause: cause.kind };
    }
    return { attempt, delayMs: nextDelay(attempt, this.opts.backoff), cause: cause.kind };
  }

  private clampHint(ms: number): number {
    return Number.isFinite(ms) ? Math.min(this.opts.maxHintMs, Math.max(0, Math.round(ms))) : 0;
  }
}
