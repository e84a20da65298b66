import { waitUntil } from '../src/index';

describe('waitUntil', () => {
  test('polls until the probe returns a value; undefined, false and throws count as not yet', async () => {
    let calls = 0;
    const value = await waitUntil(
      async () => {
        calls++;
        if (calls === 1) return undefined;
        if (calls === 2) return false;
        if (calls === 3) throw new Error('not listening yet');
        return `ready after ${calls}`;
      },
      { description: 'the fourth call', intervalMs: 1 },
    );
    expect(value).toBe('ready after 4');
  });

  test('the deadline names what was awaited and the last error', async () => {
    await expect(
      waitUntil(
        async () => {
          throw new Error('connection refused');
        },
        { description: 'a server that never starts', timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow('Timed out after 30 ms waiting for a server that never starts (last error: connection refused)');
  });

  test('with retryErrors false, the first failing probe ends the wait with its own error', async () => {
    let calls = 0;
    await expect(
      waitUntil(
        async () => {
          calls++;
          if (calls === 1) return undefined;
          throw new Error('expected FORBIDDEN, got RATE_LIMITED');
        },
        { description: 'an assertion', intervalMs: 1, retryErrors: false },
      ),
    ).rejects.toThrow('expected FORBIDDEN, got RATE_LIMITED');
    expect(calls).toBe(2);
  });

  test('abortReason gives up at once', async () => {
    await expect(
      waitUntil(async () => undefined, { description: 'a process', abortReason: () => 'process 42 exited (code 1, signal null)' }),
    ).rejects.toThrow('Gave up waiting for a process: process 42 exited (code 1, signal null)');
  });
});
