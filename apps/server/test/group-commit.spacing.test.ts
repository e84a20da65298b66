// Group commit spaces its batches only under load (GROUP_COMMIT_MIN_INTERVAL_MS from
// GROUP_COMMIT_INTERVAL_MIN_RATE sends a second): the scheduling policy of GroupCommitWriter, driven by a
// fake clock. The store is the writer's own seam for batches that do not go to the database here (the
// relay's front batcher uses it in production); what a batch does in PostgreSQL is tested with real nodes.
import type { MessageRow } from '../src/views/message-view';
import { GroupCommitWriter, type SendRequest } from '../src/features/messages/group-commit';

const INTERVAL = 50;

function writer(minIntervalFromRate: number) {
  const batches: number[] = [];
  const w = new GroupCommitWriter(
    async (reqs) => {
      batches.push(reqs.length);
      return reqs.map((r) => ({ row: { id: r.id } as unknown as MessageRow, created: true }));
    },
    { maxDelayMs: 0, maxBatch: 256, minIntervalMs: INTERVAL, minIntervalFromRate, now: () => Date.now() },
  );
  let n = 0;
  const req = (): SendRequest => ({ id: `m${++n}`, roomId: 'r', senderId: 'u', senderName: 'U', content: 'hi', replyTo: undefined });
  const submit = (k: number) => Promise.all(Array.from({ length: k }, () => w.submit(req())));
  return { batches, submit };
}

describe('group commit: batches spaced under load only', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'], now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test('below the rate every send commits at once, however close to the last batch', async () => {
    const { batches, submit } = writer(10);
    for (let i = 0; i < 5; i++) {
      const sent = submit(1);
      await jest.advanceTimersByTimeAsync(0);
      await sent;
    }
    expect(batches).toEqual([1, 1, 1, 1, 1]);
    expect(Date.now()).toBe(1_000_000); // no timer was waited for
  });

  test('from the rate on, the next batch starts the interval after the last one and carries what came meanwhile', async () => {
    const { batches, submit } = writer(10);
    const burst = submit(10);
    await jest.advanceTimersByTimeAsync(0);
    await burst;
    expect(batches).toEqual([10]);
    const more = submit(2);
    await jest.advanceTimersByTimeAsync(0);
    const later = submit(1);
    await jest.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(batches).toEqual([10]);
    await jest.advanceTimersByTimeAsync(1);
    await Promise.all([more, later]);
    expect(batches).toEqual([10, 3]);
  });

  test('a quiet second closes the gate again: a lone send commits at once', async () => {
    const { batches, submit } = writer(10);
    const burst = submit(12);
    await jest.advanceTimersByTimeAsync(0);
    await burst;
    await jest.advanceTimersByTimeAsync(2_000);
    const lone = submit(1);
    await jest.advanceTimersByTimeAsync(0);
    await lone;
    expect(batches).toEqual([12, 1]);
  });

  test('a rate of 0 spaces every batch (the interval alone)', async () => {
    const { batches, submit } = writer(0);
    const first = submit(1);
    await jest.advanceTimersByTimeAsync(0);
    await first;
    const second = submit(1);
    await jest.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(batches).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    await second;
    expect(batches).toEqual([1, 1]);
  });
});
