import { HelloRecheck } from '../src/features/rooms/hello-recheck';

// The check after a connect (features/rooms/hello-recheck.ts): one read for the sockets of a window, and only the
// sockets whose rooms moved are told. The read itself is the database's (`lastSeqsOf`); here it is a table.

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
  test('sockets connected within a window share one read; only those whose rooms moved are told, with every room now', async () => {
    const { recheck, reads, done } = recheckOver({ a: 3, b: 7, c: 1 });
    const told: Record<string, number[]> = {};
    recheck.add({ read: [{ roomId: 'a', lastSeq: 3 }, { roomId: 'b', lastSeq: 5 }], moved: (now) => (told.first = [...now]) });
    recheck.add({ read: [{ roomId: 'a', lastSeq: 3 }, { roomId: 'c', lastSeq: 1 }], moved: (now) => (told.second = [...now]) });
    recheck.add({ read: [], moved: () => (told.none = []) });
    await done;
    expect(reads).toEqual([['a', 'b', 'c']]);
    expect(told).toEqual({ first: [3, 7] });
  });

  test('a failed read is reported and tells nobody; after close nothing is read', async () => {
    const failing = recheckOver({ a: 9 }, true);
    let told = false;
    failing.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], moved: () => (told = true) });
    await failing.done;
    expect(failing.errors).toHaveLength(1);
    expect(told).toBe(false);

    jest.useFakeTimers();
    try {
      const closed = recheckOver({ a: 9 });
      closed.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], moved: () => (told = true) });
      closed.recheck.close();
      closed.recheck.add({ read: [{ roomId: 'a', lastSeq: 1 }], moved: () => (told = true) });
      jest.advanceTimersByTime(1000);
      expect(closed.reads).toEqual([]);
      expect(told).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
