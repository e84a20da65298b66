import { waitUntil } from '@chat/testkit';
import { SingleFlight } from '../src/infra/single-flight';

// The merging primitive on its own, with a loader that records what it was asked. The same primitive over
// the real history and sync queries on PostgreSQL is single-flight.reads.test.ts.

type Call = { keys: string[]; release: () => void; fail: (err: Error) => void };

/** A loader whose every call waits until the test releases it, answering `<key>@<call number>`. */
function gatedLoader() {
  const calls: Call[] = [];
  const load = (keys: readonly string[]) =>
    new Promise<string[]>((resolve, reject) => {
      const n = calls.length + 1;
      calls.push({ keys: [...keys], release: () => resolve(keys.map((k) => `${k}@${n}`)), fail: reject });
    });
  return { calls, load };
}

const byKey = { keyOf: (k: string) => k };

describe('SingleFlight', () => {
  test('identical calls made together share one load and one result', async () => {
    const { calls, load } = gatedLoader();
    const flight = new SingleFlight(load, byKey);
    const results = Array.from({ length: 20 }, () => flight.run('room-1'));
    await waitUntil(async () => calls.length === 1, { description: 'the load to start', timeoutMs: 5000, intervalMs: 5 });
    calls[0]!.release();
    expect(await Promise.all(results)).toEqual(Array(20).fill('room-1@1'));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.keys).toEqual(['room-1']);
  });

  test('different keys are not merged: one batched load, each caller gets its own value', async () => {
    const { calls, load } = gatedLoader();
    const flight = new SingleFlight(load, byKey);
    const a = [flight.run('a'), flight.run('a')];
    const b = flight.run('b');
    await waitUntil(async () => calls.length === 1, { description: 'the load to start', timeoutMs: 5000, intervalMs: 5 });
    calls[0]!.release();
    expect(await Promise.all([...a, b])).toEqual(['a@1', 'a@1', 'b@1']);
    expect(calls[0]!.keys.sort()).toEqual(['a', 'b']);
  });

  test('a caller never joins a load that started before it asked; latecomers share the next load', async () => {
    const { calls, load } = gatedLoader();
    const flight = new SingleFlight(load, byKey);
    const first = flight.run('k');
    await waitUntil(async () => calls.length === 1, { description: 'the first load to start', timeoutMs: 5000, intervalMs: 5 });

    // Asked while load 1 runs: its snapshot may miss what these callers have already seen acknowledged.
    const late = [flight.run('k'), flight.run('k'), flight.run('k')];
    const other = flight.run('other'); // a key with nothing running is not held back
    await waitUntil(async () => calls.length === 2, { description: 'the other key to load', timeoutMs: 5000, intervalMs: 5 });
    expect(calls[1]!.keys).toEqual(['other']);
    calls[1]!.release();
    expect(await other).toBe('other@2');
    expect(calls).toHaveLength(2); // 'k' waits: at most one load per key at a time

    calls[0]!.release();
    expect(await first).toBe('k@1');
    await waitUntil(async () => calls.length === 3, { description: 'the follow-up load', timeoutMs: 5000, intervalMs: 5 });
    expect(calls[2]!.keys).toEqual(['k']);
    calls[2]!.release();
    expect(await Promise.all(late)).toEqual(['k@3', 'k@3', 'k@3']);
    expect(calls).toHaveLength(3);
  });

  test('a failed load rejects every waiter, and the next call loads again', async () => {
    const { calls, load } = gatedLoader();
    const flight = new SingleFlight(load, byKey);
    const waiters = Array.from({ length: 5 }, () => flight.run('k'));
    await waitUntil(async () => calls.length === 1, { description: 'the load to start', timeoutMs: 5000, intervalMs: 5 });
    calls[0]!.fail(new Error('database went away'));
    const outcomes = await Promise.allSettled(waiters);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'fulfilled'))).toEqual(
      Array(5).fill('database went away'),
    );

    const retry = flight.run('k');
    await waitUntil(async () => calls.length === 2, { description: 'the retry to load', timeoutMs: 5000, intervalMs: 5 });
    calls[1]!.release();
    expect(await retry).toBe('k@2');
  });

  test('an Error in the results fails only its own key', async () => {
    const flight = new SingleFlight<string, string>(
      async (keys) => keys.map((k) => (k === 'bad' ? new Error(`no ${k}`) : `${k}!`)),
      byKey,
    );
    const [good, bad] = await Promise.allSettled([flight.run('good'), flight.run('bad')]);
    expect(good).toEqual({ status: 'fulfilled', value: 'good!' });
    expect(bad.status === 'rejected' && (bad.reason as Error).message).toBe('no bad');
  });

  test('a loader that answers fewer values than keys fails the missing ones instead of hanging', async () => {
    const flight = new SingleFlight<string, string>(async (keys) => keys.slice(0, 1).map((k) => `${k}!`), byKey);
    const outcomes = await Promise.allSettled([flight.run('x'), flight.run('y')]);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'x!' });
    expect(outcomes[1]!.status).toBe('rejected');
  });

  test('maxBatch splits a large backlog into several loads', async () => {
    const batches: number[] = [];
    const flight = new SingleFlight<string, string>(
      async (keys) => {
        batches.push(keys.length);
        return keys.map((k) => k.toUpperCase());
      },
      { keyOf: (k) => k, maxBatch: 4 },
    );
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    expect(await Promise.all(keys.map((k) => flight.run(k)))).toEqual(keys.map((k) => k.toUpperCase()));
    expect(batches).toEqual([4, 4, 2]);
  });
});
