import { ChatError, ErrorObjectSchema, isErrorCode, type ErrorCode } from '@chat/protocol';

/** Builds a ChatError from a wire error object, tolerating a malformed one (a proxy's page, a bug). */
export function chatErrorFrom(raw: unknown, fallback: ErrorCode, fallbackMessage: string): ChatError {
  const parsed = ErrorObjectSchema.safeParse(raw);
  if (parsed.success) {
    const { code, message, retryAfterMs, details } = parsed.data;
    return new ChatError(code, message, { retryAfterMs, details });
  }
  // Keep a known code even when another field is off (e.g. a fractional retryAfterMs).
  const obj = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const code = isErrorCode(obj.code) ? obj.code : fallback;
  const message = typeof obj.message === 'string' ? obj.message : fallbackMessage;
  const retryAfterMs = typeof obj.retryAfterMs === 'number' && obj.retryAfterMs >= 0 ? obj.retryAfterMs : undefined;
  return new ChatError(code, message, { retryAfterMs });
}

/** Errors worth retrying with the same payload: the server did not (or could not) act on the request. */
export function isTransient(err: unknown): boolean {
  return err instanceof ChatError && (err.code === 'UNAVAILABLE' || err.code === 'RATE_LIMITED');
}

/**
 * A request that got no answer (not connected, disconnected while waiting, ack timeout): the server may or
 * may not have acted, so only an idempotent resend is safe. Marked so that callers which wait for the
 * connection anyway (the outbox) do not count it as a failure of the message itself.
 */
export function notAnswered(message: string): ChatError {
  return new ChatError('UNAVAILABLE', message, { details: { notAnswered: true } });
}

export function isNotAnswered(err: unknown): boolean {
  return err instanceof ChatError && err.code === 'UNAVAILABLE' && err.details?.notAnswered === true;
}
