import { z } from 'zod';

/** The error codes of docs/PROTOCOL.md with their HTTP statuses. */
export const ERROR_STATUS = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

export const ErrorCodeSchema = z.enum(ERROR_CODES);

export const ErrorObjectSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorObject = z.infer<typeof ErrorObjectSchema>;

/** HTTP error bodies are `{ error: ErrorObject }`. */
export const HttpErrorBodySchema = z.object({ error: ErrorObjectSchema });
export type HttpErrorBody = z.infer<typeof HttpErrorBodySchema>;

/**
 * An expected failure that may be shown to the client as it is. Anything that is not a ChatError
 * is answered `INTERNAL` with a generic message, and its details stay in the server log.
 */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryAfterMs?: number; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
    this.details = opts.details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): ErrorObject {
    const out: ErrorObject = { code: this.code, message: this.message };
    if (this.retryAfterMs !== undefined) out.retryAfterMs = Math.max(0, Math.ceil(this.retryAfterMs));
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in ERROR_STATUS;
}
