export interface WaitOptions {
  /** What we are waiting for, used in the timeout error. */
  description: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Checked before every attempt: return a reason to give up at once (e.g. the server process exited). */
  abortReason?: () => string | undefined;
  /**
   * Whether a probe that throws counts as "not yet" (the default: a server refusing connections while it
   * starts is the normal case). False for probes that hold assertions: their first failure ends the wait.
   */
  retryErrors?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, with a short interval and an
 * overall deadline. A probe that throws counts as "not yet" unless `retryErrors` is false; its last
 * error is reported if the deadline passes.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false>,
  { description, timeoutMs = 30_000, intervalMs = 50, abortReason, retryErrors = true }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = abortReason?.();
    if (reason) throw new Error(`Gave up waiting for ${description}: ${reason}`);
    try {
      const result = await probe();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}${detail}`);
    }
    await sleep(intervalMs);
  }
}
