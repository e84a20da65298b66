import type { RoomReceipt } from '@chat/protocol';
import { ReceiptFanout, type MovedReceipts } from '../src/features/messages/receipt-fanout';

function fanout() {
  const emitted: { roomId: string; receipts: RoomReceipt[] }[] = [];
  const shared: MovedReceipts[][] = [];
  const f = new ReceiptFanout({ windowMs: 1000, emitLocal: (roomId, receipts) => emitted.push({ roomId, receipts }), share: (m) => shared.push(m) });
  return { f, emitted, shared };
}

describe('ReceiptFanout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test("this node's writes are shared once and sent to its own sockets at once, one event per room", () => {
    const { f, emitted, shared } = fanout();
    f.wrote([
      { roomId: 'r1', receipts: [{ userId: 'a', deliveredSeq: 3, readSeq: 1 }, { userId: 'b', deliveredSeq: 2, readSeq: 2 }] },
      { roomId: 'r2', receipts: [{ userId: 'a', deliveredSeq: 7, readSeq: 0 }] },
    ]);
    expect(shared).toHaveLength(1);
    expect(emitted).toEqual([
      { roomId: 'r1', receipts: [{ userId: 'a', deliveredSeq: 3, readSeq: 1 }, { userId: 'b', deliveredSeq: 2, readSeq: 2 }] },
      { roomId: 'r2', receipts: [{ userId: 'a', deliveredSeq: 7, readSeq: 0 }] },
    ]);
  });

  test("what other nodes wrote is merged (highest cursors win) and goes out with the next local write, or after one window", () => {
    const { f, emitted, shared } = fanout();
    f.heard([{ roomId: 'r1', receipts: [{ userId: 'a', deliveredSeq: 5, readSeq: 2 }] }]);
    f.heard([{ roomId: 'r1', receipts: [{ userId: 'a', deliveredSeq: 4, readSeq: 3 }, { userId: 'c', deliveredSeq: 1, readSeq: 0 }] }]);
    expect(emitted).toEqual([]);
    // A local write flushes everything pending, its own cursors merged in; what was heard is not re-shared.
    f.wrote([{ roomId: 'r1', receipts: [{ userId: 'b', deliveredSeq: 6, readSeq: 6 }] }]);
    expect(shared).toEqual([[{ roomId: 'r1', receipts: [{ userId: 'b', deliveredSeq: 6, readSeq: 6 }] }]]);
    expect(emitted).toEqual([
      {
        roomId: 'r1',
        receipts: [
          { userId: 'a', deliveredSeq: 5, readSeq: 3 },
          { userId: 'c', deliveredSeq: 1, readSeq: 0 },
          { userId: 'b', deliveredSeq: 6, readSeq: 6 },
        ],
      },
    ]);
    // Heard with no local write: sent after one window, once.
    f.heard([{ roomId: 'r2', receipts: [{ userId: 'd', deliveredSeq: 9, readSeq: 9 }] }]);
    jest.advanceTimersByTime(999);
    expect(emitted).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(emitted).toEqual([expect.anything(), { roomId: 'r2', receipts: [{ userId: 'd', deliveredSeq: 9, readSeq: 9 }] }]);
    jest.advanceTimersByTime(5000);
    expect(emitted).toHaveLength(2);
    f.close();
  });

  test('a write that moves many rooms goes out in slices, one turn of the event loop each, one event per room', () => {
    const { f, emitted } = fanout();
    const rooms = Array.from({ length: 40 }, (_, i) => ({ roomId: `r${i}`, receipts: [{ userId: 'a', deliveredSeq: i + 1, readSeq: 0 }] }));
    f.wrote(rooms);
    expect(emitted.map((e) => e.roomId)).toEqual(rooms.slice(0, 16).map((r) => r.roomId));
    // Moved again before its slice: still one event for that room, with the newest cursor.
    f.heard([{ roomId: 'r30', receipts: [{ userId: 'a', deliveredSeq: 99, readSeq: 5 }] }]);
    jest.advanceTimersToNextTimer();
    expect(emitted).toHaveLength(32);
    jest.advanceTimersToNextTimer();
    expect(emitted.map((e) => e.roomId)).toEqual(rooms.map((r) => r.roomId));
    expect(emitted.find((e) => e.roomId === 'r30')!.receipts).toEqual([{ userId: 'a', deliveredSeq: 99, readSeq: 5 }]);
    // Nothing else was pending: the heard() window passes with no second event.
    jest.advanceTimersByTime(5000);
    expect(emitted).toHaveLength(40);
    f.close();
  });

  test('close stops a flush under way', () => {
    const { f, emitted } = fanout();
    f.wrote(Array.from({ length: 20 }, (_, i) => ({ roomId: `r${i}`, receipts: [{ userId: 'a', deliveredSeq: 1, readSeq: 0 }] })));
    expect(emitted).toHaveLength(16);
    f.close();
    jest.runAllTimers();
    expect(emitted).toHaveLength(16);
  });
});
