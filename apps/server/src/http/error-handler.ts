import { ChatError, ERROR_STATUS, type ErrorCode } from '@chat/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { toErrorObject } from '../errors';

/** Fastify's own client errors (bad JSON, body too large, wrong content type) mapped to protocol codes. */
function frameworkCode(err: FastifyError): ErrorCode | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return 'PAYLOAD_TOO_LARGE';
  if (err.statusCode === 429) return 'RATE_LIMITED';
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return 'VALIDATION';
  return undefined;
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const code = err instanceof ChatError ? undefined : frameworkCode(err);
    const error = code
      ? { code, message: code === 'PAYLOAD_TOO_LARGE' ? 'request body too large' : 'malformed request' }
      : toErrorObject(err, request.log, { method: request.method, url: request.url });
    if (error.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(error.retryAfterMs / 1000));
    return reply.status(ERROR_STATUS[error.code]).send({ error });
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
