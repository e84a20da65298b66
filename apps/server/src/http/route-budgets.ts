import { ChatError, LIMITS, type HttpBudgetClass } from '@chat/protocol';
import type { FastifyRequest } from 'fastify';
import type { RateLimiter, RateLimiterFactory } from '../infra/rate-limiter';
import { addressBucket } from './client-address';

type BudgetedClass = Exclude<HttpBudgetClass, 'ops'>;
const WINDOW_SECONDS = 60;

/**
 * Per-minute budgets of the REST routes by class (issue 9, item 1; PROTOCOL.md "Budgets"), per client
 * address (IPv6 by its /64) and per signed-in user, across the cluster (Redis; memory when embedded).
 * The address is counted before the token is checked, so a flood of bad tokens is bounded too; the user
 * after it. `multiplier` (HTTP_BUDGET_MULTIPLIER) scales every budget, for deployments whose users sit
 * behind few addresses. Over either budget: RATE_LIMITED with retryAfterMs, nothing done.
 */
export class RouteBudgets {
  private readonly perAddress = new Map<BudgetedClass, RateLimiter>();
  private readonly perUser = new Map<BudgetedClass, RateLimiter>();

  constructor(rateLimiters: RateLimiterFactory, multiplier: number) {
    for (const [cls, limits] of Object.entries(LIMITS.httpRequestsPerMinute) as [BudgetedClass, { user?: number; address: number }][]) {
      const points = (n: number) => Math.max(1, Math.round(n * multiplier));
      this.perAddress.set(cls, rateLimiters({ keyPrefix: `http:${cls}:address`, points: points(limits.address), durationSec: WINDOW_SECONDS }));
      if (limits.user !== undefined) {
        this.perUser.set(cls, rateLimiters({ keyPrefix: `http:${cls}:user`, points: points(limits.user), durationSec: WINDOW_SECONDS }));
      }
    }
  }

  /** preHandler: the client address's budget of the class (before authentication). */
  address(cls: HttpBudgetClass): ((request: FastifyRequest) => Promise<void>) | undefined {
    const limiter = cls === 'ops' ? undefined : this.perAddress.get(cls);
    if (!limiter) return undefined;
    return async (request) => spend(limiter, addressBucket(request.clientAddress), 'too many requests from this address');
  }

  /** preHandler: the signed-in user's budget of the class (after authentication). */
  user(cls: HttpBudgetClass): ((request: FastifyRequest) => Promise<void>) | undefined {
    const limiter = cls === 'ops' ? undefined : this.perUser.get(cls);
    if (!limiter) return undefined;
    return async (request) => {
      if (request.user) await spend(limiter, request.user.userId, 'too many requests, slow down');
    };
  }
}

async function spend(limiter: RateLimiter, key: string, message: string): Promise<void> {
  const decision = await limiter.consume(key);
  if (!decision.allowed) throw new ChatError('RATE_LIMITED', message, { retryAfterMs: decision.retryAfterMs });
}
