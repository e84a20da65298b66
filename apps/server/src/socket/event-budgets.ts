import { ChatError, LIMITS, type ClientEventName } from '@chat/protocol';
import type { RateLimiter, RateLimiterFactory } from '../infra/rate-limiter';

type EventClass = keyof typeof LIMITS.eventsPerSecond;

/**
 * Which budget each socket event draws on. `message:send` is not here: its budget (MESSAGES_PER_SECOND) is
 * checked by the messages feature, after the room checks, so that a retry of a stored id can be refunded.
 */
const EVENT_CLASS: Partial<Record<ClientEventName, EventClass>> = {
  'message:edit': 'edit',
  'message:delete': 'edit',
  'reaction:add': 'reaction',
  'reaction:remove': 'reaction',
  'message:delivered': 'receipt',
  'message:read': 'receipt',
  typing: 'typing',
  sync: 'sync',
  'presence:get': 'presence',
};

/**
 * Per-user budgets for every socket event class (a token bucket per class and user: rate-limiter-flexible's
 * fixed window). Counted in this node's memory, like the send budget: a check on every event must not cost
 * a Redis round trip, and `ip_hash` keeps a client's sockets on one node (a user on k nodes at once gets up
 * to k times the budget; docs/ARCHITECTURE.md "Limits and safety"). Budgets are per user, so a flooding
 * member never spends an honest member's budget in the same room.
 */
export class EventBudgets {
  private readonly limiters = new Map<EventClass, RateLimiter>();

  constructor(rateLimiters: RateLimiterFactory, perSecond: Record<EventClass, number> = LIMITS.eventsPerSecond) {
    for (const [cls, points] of Object.entries(perSecond) as [EventClass, number][]) {
      this.limiters.set(cls, rateLimiters({ keyPrefix: `event:${cls}`, points, durationSec: 1, scope: 'node' }));
    }
  }

  /** RATE_LIMITED (with retryAfterMs) when the user's budget for this event's class is spent. */
  /** Synchronous `undefined` for an event without a class here (no await on the send path). */
  check(event: ClientEventName, userId: string): Promise<ChatError | undefined> | undefined {
    const cls = EVENT_CLASS[event];
    const limiter = cls && this.limiters.get(cls);
    if (!limiter) return undefined;
    return limiter
      .consume(userId)
      .then((decision) => (decision.allowed ? undefined : new ChatError('RATE_LIMITED', `too many ${cls} events`, { retryAfterMs: decision.retryAfterMs })));
  }
}
