import { ChatError } from '@chat/protocol';
import { ReconnectPolicy } from '@chat/client';

const backoff = { baseMs: 1000, maxMs: 30_000 };
const refused = (retryAfterMs?: number) => ({ kind: 'refused' as const, error: new ChatError('RATE_LIMITED', 'busy', retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('ReconnectPolicy', () => {
  test('each failure widens the window exponentially up to the cap, with full jitter inside it', () => {
    const policy = new ReconnectPolicy({ backoff: { ...backoff, random: () => 0.999999 }, maxAttempts: 50 });
    const tops = Array.from({ length: 8 }, () => policy.next({ kind: 'lost' })!.delayMs);
    expect(tops).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);

    // Full jitter: 2,000 clients that lost their node at the same instant spread over the whole window.
    const firsts = Array.from({ length: 2000 }, () => new ReconnectPolicy({ backoff, maxAttempts: 50 }).next({ kind: 'lost' })!.delayMs);
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(1000);
    const buckets = new Array<number>(10).fill(0);
    for (const d of firsts) buckets[Math.min(9, Math.floor(d / 100))]!++;
    // Every tenth of the window gets a share (expected 200 each): no lock-step spike.
    for (const b of buckets) expect(b).toBeGreaterThan(100);
  });

  test('a RATE_LIMITED hint replaces the client\'s own window: the server already spread the herd', () => {
    const policy = new ReconnectPolicy({ backoff: { ...backoff, random: () => 0 }, maxAttempts: 50 });
    expect(policy.next(refused(2500))).toEqual({ attempt: 0, delayMs: 2500, cause: 'refused' });
    expect(policy.next(refused(700))).toEqual({ attempt: 1, delayMs: 700, cause: 'refused' });
    const jittered = new ReconnectPolicy({ backoff: { ...backoff, random: () => 0.999999 }, maxAttempts: 50 });
    jittered.next({ kind: 'lost' });
    jittered.next({ kind: 'lost' });
    // The window has grown to 4,000 ms, but the node said it can take us in 1,500 ms: no stale back-off.
    expect(jittered.next(refused(1500))!.delayMs).toBe(1500);
    // A refusal without a hint still backs off, and refusals count toward giving up.
    expect(jittered.next(refused())!.delayMs).toBe(8000);
    expect(jittered.attempts).toBe(4);
  });

  test('absurd hints are clamped: a broken or hostile server cannot park the client for hours', () => {
    const policy = new ReconnectPolicy({ backoff, maxAttempts: 50, maxHintMs: 60_000 });
    expect(policy.next(refused(86_400_000))!.delayMs).toBe(60_000);
    expect(policy.next({ kind: 'draining', reconnectInMs: 10 ** 12 })!.delayMs).toBe(60_000);
    expect(policy.next({ kind: 'draining', reconnectInMs: -5 })!.delayMs).toBe(0);
  });

  test('draining waits exactly the announced delay and does not count as a failure', () => {
    const policy = new ReconnectPolicy({ backoff, maxAttempts: 2 });
    expect(policy.next({ kind: 'draining', reconnectInMs: 3456 })).toEqual({ attempt: 0, delayMs: 3456, cause: 'draining' });
    expect(policy.attempts).toBe(0);
  });

  test('bounded: gives up after maxAttempts failures in a row; a connection resets the sequence', () => {
    const policy = new ReconnectPolicy({ backoff: { ...backoff, random: () => 0.999999 }, maxAttempts: 3 });
    expect(policy.next({ kind: 'lost' })).toBeDefined();
    expect(policy.next({ kind: 'server-disconnect' })).toBeDefined();
    expect(policy.next(refused())).toBeDefined();
    expect(policy.next({ kind: 'lost' })).toBeUndefined();
    expect(policy.attempts).toBe(3);
    policy.reset();
    expect(policy.next({ kind: 'lost' })).toEqual({ attempt: 0, delayMs: 1000, cause: 'lost' });
  });
});
