import type { Hello } from '@chat/protocol';
import { HelloRecheck } from '../src/features/rooms/hello-recheck';

// The check after a connect (features/rooms/hello-recheck.ts): one read for the sockets of a window, and only the
// sockets whose rooms moved or grew are told. The read itself is the database's (`lastSeqsOf`); here it is a table.

function recheckOver(table: Record<string, number>, fail = false) {
  const reads: string[][] = [];
  const errors: unknown[] = [];
  let readDone!: () => void;
  const done = new Promise<void>((resolve) => (readDone = resolve));
  const recheck = new HelloRecheck({
    windowMs: 5,
    lastSeqs: async (roomIds) => {
      reads.push([...roomIds]);
      setImmediate(readDone);
      if (fail) throw new Error('database gone');
      return roomIds.map((id) => table[id] ?? 0);
    },
    onError: (err) => errors.push(err),
  });
  return { recheck, reads, errors, done };
}

describe('HelloRecheck', () => {
  test('sockets connected within a window share one read; only those whose rooms moved or grew are told, with every room now', async () => {
    const { recheck, reads, done } = recheckOver({ a: 3, b: 7, c: 1, d: 4 });
    const told: Record<string, Hello['rooms']> = {};
    const ab = [{ roomId: 'a', lastSeq: 3 }, { roomId: 'b', lastSeq: 5 }];
    recheck.add({ read: ab, rooms: () => ['a', 'b'], moved: (rooms) => (told.moved = rooms) });
    recheck.add({ read: [{ roomId: 'a', lastSeq: 3 }, { roomId: 'c', lastSeq: 1 }], rooms: () => ['a', 'c'], moved: (rooms) => (told.same = rooms) });
    // Left b meanwhile, joined d: d is new to it (joined during the handshake, or since with its `room:joined`).
    recheck.add({ read: ab, rooms: () => ['a', 'd'], moved: (rooms) => (told.grew = rooms) });
    recheck.add({ read: [], rooms: () => [], moved: (rooms) => (told.none = rooms) });
    await done;
    expect(reads).toEqual([['a', 'b', 'c', 'd']]);
    expect(told).toEqual({
      moved: [{ roomId: 'a', lastSeq: 3 }, { roomId: 'b', lastSeq: 7 }],
      grew: [{ roomId: 'a', lastSeq: 3 }, { roomId: 'd', lastSeq: 4 }],
    });
  });

  test('a failed read is reported and tells nobody; after close nothing is read', async () => {
    const failing = recheckOver({ a: 9 }, true);
    let told = false;
    failing.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], rooms: () => ['a'], moved: () => (told = true) });
    await failing.done;
    expect(failing.errors).toHaveLength(1);
    expect(told).toBe(false);

    jest.useFakeTimers();
    try {
      const closed = recheckOver({ a: 9 });
      closed.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], rooms: () => ['a'], moved: () => (told = true) });
      closed.recheck.close();
      closed.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], rooms: () => ['a'], moved: () => (told = true) });
      jest.advanceTimersByTime(1000);
      expect(closed.reads).toEqual([]);
      expect(told).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
