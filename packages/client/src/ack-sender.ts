import type { Ack, ChatError, ClientEventName, ClientToServerEvents } from '@chat/protocol';
import { nextDelay, type BackoffOptions } from './backoff';
import { chatErrorFrom, notAnswered } from './chat-errors';
import type { Connection } from './connection';

/** Payload and successful ack of a client → server event, read from the protocol's event map. */
export type PayloadOf<E extends ClientEventName> = Parameters<ClientToServerEvents[E]>[0];
export type AckOf<E extends ClientEventName> = Extract<Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0], { ok: true }>;

export interface AckOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Attempts after the first, on timeout, disconnect, RATE_LIMITED or UNAVAILABLE; default 5. */
  retries?: number;
}

interface AckSenderOptions {
  connection: Pick<Connection, 'socket' | 'whenConnected'>;
  /** Spacing of retries after RATE_LIMITED or UNAVAILABLE (a `retryAfterMs` hint is a floor). */
  backoff: BackoffOptions;
  /** Defaults for calls that pass no options of their own. */
  defaults?: AckOptions;
}

/**
 * Client → server events with an acknowledgement, retried with the same payload: a timeout or disconnect
 * waits for the connection and resends (so a `message:send` keeps its id and is persisted once);
 * RATE_LIMITED waits `retryAfterMs`, UNAVAILABLE backs off. Any other `{ok:false}` throws its ChatError.
 */
export class AckSender {
  private closed = false;
  /** Retries waiting out their backoff, so `close` can wake them (they then reject instead of hanging). */
  private readonly sleeping = new Map<ReturnType<typeof setTimeout>, () => void>();
  private readonly opts: AckSenderOptions;

  constructor(opts: AckSenderOptions) {
    this.opts = opts;
  }

  async send<E extends ClientEventName>(event: E, payload: PayloadOf<E>, opts: AckOptions = {}): Promise<AckOf<E>> {
    const timeoutMs = opts.timeoutMs ?? this.opts.defaults?.timeoutMs ?? 10_000;
    const retries = opts.retries ?? this.opts.defaults?.retries ?? 5;
    const { connection } = this.opts;
    // Built only on failure: an Error captures a stack trace, which on every send was 3 % of a load
    // driver's CPU (docs/performance.md).
    let lastError: ChatError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      await connection.whenConnected();
      let ack: Ack<object>;
      try {
        // The typed overloads of emitWithAck cannot be resolved for a generic E; AckOf<E> types the result.
        const timed = connection.socket.timeout(timeoutMs) as unknown as { emitWithAck(e: E, p: PayloadOf<E>): Promise<Ack<object>> };
        ack = await timed.emitWithAck(event, payload);
      } catch (err) {
        // Timed out or disconnected: the server may or may not have acted; the same payload is safe to resend.
        lastError = notAnswered(`${event}: ${err instanceof Error ? err.message : String(err)}`);
        if (this.closed) throw lastError;
        continue;
      }
      if (ack.ok) return ack as AckOf<E>;
      const error = chatErrorFrom(ack.error, 'INTERNAL', `${event} failed`);
      if (error.code !== 'RATE_LIMITED' && error.code !== 'UNAVAILABLE') throw error;
      lastError = error;
      if (attempt < retries) await this.sleep(nextDelay(attempt, this.opts.backoff, error.retryAfterMs));
    }
    throw lastError ?? notAnswered(`${event}: no answer`);
  }

  /** Stops the timers and wakes sleeping retries; with the connection closed they reject. */
  close(): void {
    this.closed = true;
    for (const [timer, wake] of this.sleeping) {
      clearTimeout(timer);
      wake();
    }
    this.sleeping.clear();
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.set(timer, resolve);
    });
  }
}
