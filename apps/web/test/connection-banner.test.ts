import type { ConnectionStatus } from '@chat/client';
import { bannerFor } from '../src/chat/connection-banner';

const now = 1_000_000;
const status = (s: Partial<ConnectionStatus> & Pick<ConnectionStatus, 'state'>): ConnectionStatus => ({ attempt: 0, ...s });

describe('connection banner', () => {
  test('says nothing while connected', () => {
    expect(bannerFor(status({ state: 'connected' }), now, 0)).toBeUndefined();
  });

  test('counts down to the scheduled attempt and offers to retry now', () => {
    const waiting = status({ state: 'reconnecting', retryAt: now + 4200, retryDelayMs: 7000, attempt: 3 });
    expect(bannerFor(waiting, now, 0)).toEqual({ tone: 'warning', text: 'Connection lost. Reconnecting in 5 seconds.', canRetry: true });
    expect(bannerFor(waiting, now + 3500, 0)?.text).toBe('Connection lost. Reconnecting in 1 second.');
    // The moment has come: an attempt is running.
    expect(bannerFor(waiting, now + 5000, 0)).toEqual({ tone: 'warning', text: 'Connection lost. Reconnecting…', canRetry: false });
  });

  test('tells a busy server from an unreachable one, and counts queued messages', () => {
    const busy = status({ state: 'reconnecting', retryAt: now + 2000, lastError: { code: 'RATE_LIMITED', message: 'busy', retryAfterMs: 2000 } });
    expect(bannerFor(busy, now, 2)?.text).toBe('Connection lost; the server is busy. Reconnecting in 2 seconds. 2 messages will be sent when it is back.');
    expect(bannerFor(status({ state: 'connecting', retryAt: now + 900 }), now, 1)?.text).toBe(
      'Cannot reach the server. Retrying in 1 second. 1 message will be sent when it is back.',
    );
    expect(bannerFor(status({ state: 'connecting' }), now, 0)).toEqual({ tone: 'info', text: 'Connecting…', canRetry: false });
  });

  test('draining and offline', () => {
    expect(bannerFor(status({ state: 'draining', retryAt: now + 2500 }), now, 0)?.text).toBe('The server is restarting. Moving you to another one in 3 seconds.');
    expect(bannerFor(status({ state: 'offline' }), now, 3)).toEqual({
      tone: 'error',
      text: 'You are offline. Nothing you write is lost. 3 messages will be sent when it is back.',
      canRetry: true,
    });
  });
});
