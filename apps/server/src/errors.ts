import { ChatError, type ErrorObject } from '@chat/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { ZodError, type z } from 'zod';
import { findUnstorableText } from './unstorable-text';

/**
 * The one place where failures become wire errors. A ChatError is expected and passes to the client as
 * it is; anything else is logged with its context and answered INTERNAL with a generic message, so no
 * stack trace, SQL text or other user's data ever leaves the server.
 */
export function toErrorObject(err: unknown, log: FastifyBaseLogger, context: Record<string, unknown> = {}): ErrorObject {
  if (err instanceof ChatError) return err.toJSON();
  if (err instanceof ZodError) return validationError(err).toJSON();
  if (isOverloaded(err)) {
    // The database pool had no connection within its timeout (or the database is unreachable): a
    // dependency that is busy or down, which the client may retry later, not a bug.
    log.warn({ err: (err as Error).message, ...context }, 'database unavailable');
    return { code: 'UNAVAILABLE', message: 'try again later', retryAfterMs: 500 + Math.floor(Math.random() * 1500) };
  }
  log.error({ err, ...context }, 'internal error');
  return { code: 'INTERNAL', message: 'internal error' };
}

/** pg's pool checkout timeout, and connection failures to the database. */
function isOverloaded(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.message.includes('timeout exceeded when trying to connect')) return true;
  const code = (err as Error & { code?: string }).code;
  return code === 'ECONNREFUSED' || code === '57P03' /* cannot_connect_now */ || code === '53300' /* too_many_connections */;
}

export function validationError(err: ZodError): ChatError {
  const issues = err.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message }));
  return new ChatError('VALIDATION', issues[0] ? `${issues[0].path || 'payload'}: ${issues[0].message}` : 'invalid payload', {
    details: { issues },
  });
}

/** Parses untrusted input; a mismatch is a VALIDATION error naming the first bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationError(r.error);
  rejectUnstorableText(r.data);
  return r.data;
}

/** VALIDATION when validated input holds text the database cannot store as sent (NUL, lone surrogates). */
export function rejectUnstorableText(data: unknown): void {
  const path = findUnstorableText(data);
  if (path) {
    const at = path.join('.');
    throw new ChatError('VALIDATION', `${at || 'payload'}: must not contain NUL characters or lone surrogates`, {
      details: { issues: [{ path: at, message: 'unstorable text' }] },
    });
  }
}
