import type { HttpRoute } from '@chat/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { z } from 'zod';
import { parseInput } from '../errors';

type Parsed<R, K extends 'params' | 'query' | 'body'> = R extends { [P in K]: infer S extends z.ZodType } ? z.output<S> : undefined;

/** A route's params, query and body, parsed by its protocol schemas. */
export interface RouteInput<R extends HttpRoute> {
  params: Parsed<R, 'params'>;
  query: Parsed<R, 'query'>;
  body: Parsed<R, 'body'>;
}

/** The success body the route's protocol entry promises; nothing for a route that answers 204. */
type Answer<R extends HttpRoute> = R extends { response: infer S extends z.ZodType } ? z.input<S> : void;

export type RouteHandler<R extends HttpRoute> = (input: RouteInput<R>, request: FastifyRequest, reply: FastifyReply) => Promise<Answer<R> | FastifyReply>;

/**
 * Registers one route of the protocol's table (`HTTP_ROUTES`): its method and path, its class's budget per
 * client address, `app.authenticate` when the route takes a token and its class's budget per user, then params, query and body parsed by the route's schemas (VALIDATION naming the
 * first bad field, in that order). The handler's answer goes out with the route's usual success status; a
 * handler that answers another of its success statuses sets it on `reply`.
 *
 * `preHandler` runs after authentication and before parsing (e.g. a budget that counts malformed attempts too).
 */
export function route<R extends HttpRoute>(
  app: FastifyInstance,
  spec: R,
  handler: RouteHandler<R>,
  options: { preHandler?: preHandlerAsyncHookHandler } = {},
): void {
  const preHandler = [
    app.routeBudgets.address(spec.budget),
    ...(spec.auth ? [app.authenticate, app.routeBudgets.user(spec.budget)] : []),
    options.preHandler,
  ].filter((h) => h !== undefined);
  app.route({
    method: spec.method,
    url: spec.path,
    ...(preHandler.length > 0 ? { preHandler } : {}),
    handler: async (request, reply) => {
      const input = {
        params: spec.params ? parseInput(spec.params, request.params) : undefined,
        query: spec.query ? parseInput(spec.query, request.query) : undefined,
        body: spec.body ? parseInput(spec.body, request.body) : undefined,
      } as RouteInput<R>;
      reply.status(spec.success[0]!);
      const answer = await handler(input, request, reply);
      if (answer === reply || reply.sent) return reply;
      return answer === undefined ? reply.send() : answer;
    },
  });
}
