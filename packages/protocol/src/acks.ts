import { z } from 'zod';
import { ErrorObjectSchema, type ErrorObject } from './errors';

/** Every acknowledgement is `{ok: true, ...fields}` or `{ok: false, error}`. */
export type AckOk<T extends object = object> = { ok: true } & T;
export type AckError = { ok: false; error: ErrorObject };
export type Ack<T extends object = object> = AckOk<T> | AckError;

export const AckErrorSchema = z.object({ ok: z.literal(false), error: ErrorObjectSchema });

/** An acknowledgement that carries nothing but `ok: true`. */
export const NoAckFields = z.object({});
