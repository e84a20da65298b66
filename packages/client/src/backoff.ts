/** Exponential backoff with full jitter, shared by socket reconnection, ack retries and the outbox. */
export interface BackoffOptions {
  /** Delay cap of the first attempt (attempt 0). */
  baseMs: number;
  /** The cap never grows beyond this, however many attempts have failed. */
  maxMs: number;
  /**
   * Share of the window that is random, 0…1; default 1 ("full jitter": uniform in [0, cap]). 0.5 gives
   * "equal jitter" (uniform in [cap/2, cap]); 0 is no jitter at all.
   */
  jitter?: number;
  /** A source of uniform numbers in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based): with full jitter, uniform in
 * [0, min(maxMs, baseMs * 2^attempt)].
 *
 * Full jitter (rather than "cap ± 50%") spreads a herd of clients that failed at the same instant over the
 * whole window, so a node that comes back is not hit by every client in lock-step. A server hint
 * (`retryAfterMs`) is a floor: the server already jittered it and knows its own budget, so we never come
 * back earlier than it asked, but may come back later.
 */
export function nextDelay(attempt: number, opts: BackoffOptions, hintMs?: number): number {
  const random = opts.random ?? Math.random;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 1));
  // 2^attempt overflows to Infinity for large attempts; Math.min keeps the cap finite.
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt));
  const jittered = Math.floor(cap * (1 - jitter) + random() * (cap * jitter + 1));
  return Math.max(hintMs ?? 0, Math.min(cap, jittered));
}
