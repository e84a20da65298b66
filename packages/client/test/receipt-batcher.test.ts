import { ReceiptBatcher } from '../src/receipt-batcher';

function harness(debounceMs: number, fail = false) {
  const sent: [string, number][] = [];
  const batcher = new ReceiptBatcher({
    debounceMs,
    send: (roomId, seq) => {
      sent.push([roomId, seq]);
      return fail ? Promise.reject(new Error('not answered')) : Promise.resolve();
    },
  });
  return { batcher, sent };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ReceiptBatcher', () => {
  test('one receipt per room per window, with the highest seq delivered in it', () => {
    const { batcher, sent } = harness(500);
    batcher.add('a', 3);
    batcher.add('a', 5);
    batcher.add('a', 4);
    batcher.add('b', 1);
    jest.advanceTimersByTime(499);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([
      ['a', 5],
      ['b', 1],
    ]);
    batcher.add('a', 6);
    jest.advanceTimersByTime(500);
    expect(sent).toEqual([
      ['a', 5],
      ['b', 1],
      ['a', 6],
    ]);
  });

  test('a window of 0 turns receipts off', () => {
    const { batcher, sent } = harness(0);
    batcher.add('a', 1);
    jest.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
  });

  test('after close, nothing pending or new is sent', () => {
    const { batcher, sent } = harness(500);
    batcher.add('a', 1);
    batcher.close();
    batcher.add('b', 2);
    jest.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
  });

  test('a failed receipt is not retried; the next window carries the cumulative cursor', () => {
    const { batcher, sent } = harness(500, true);
    batcher.add('a', 1);
    jest.advanceTimersByTime(500);
    batcher.add('a', 2);
    jest.advanceTimersByTime(500);
    expect(sent).toEqual([
      ['a', 1],
      ['a', 2],
    ]);
  });
});
