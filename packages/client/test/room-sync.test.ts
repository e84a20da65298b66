import { ChatError, type Message, type SyncRequest } from '@chat/protocol';
import { RoomSync } from '../src/room-sync';

/** A RoomSync over an in-memory "server" that answers `sync` from stored messages, in pages. */
function harness(opts: { cursors?: Record<string, number>; pageSize?: number; missing?: number[] } = {}) {
  const stored = new Map<string, Message[]>();
  const requests: SyncRequest[] = [];
  const released: Message[] = [];
  const synced: string[][] = [];
  const errors: ChatError[] = [];
  const failures: ChatError[] = [];
  const probes = new Set<() => void>();
  const changed = () => {
    for (const probe of [...probes]) probe();
  };
  const rooms = new RoomSync({
    cursors: opts.cursors,
    sync: async (request) => {
      requests.push(request);
      const failure = failures.shift();
      if (failure) throw failure;
      return (request.rooms ?? []).map(({ roomId, afterSeq }) => {
        const all = stored.get(roomId) ?? [];
        const after = all.filter((m) => m.seq > (afterSeq ?? 0) && !(opts.missing ?? []).includes(m.seq));
        const page = after.slice(0, opts.pageSize ?? 50);
        return { roomId, messages: page, hasMore: after.length > page.length, lastSeq: all.at(-1)?.seq ?? 0 };
      });
    },
    release: (_roomId, messages) => {
      released.push(...messages);
      changed();
    },
    synced: (roomIds) => {
      synced.push(roomIds);
      changed();
    },
    error: (error) => {
      errors.push(error);
      changed();
    },
  });
  /** Stores messages 1…n of a room and returns them. */
  const store = (roomId: string, n: number): Message[] => {
    const list = Array.from({ length: n }, (_, i): Message => ({
      id: `${roomId}-${i + 1}`,
      roomId,
      seq: i + 1,
      senderId: 'u1',
      senderName: 'alice',
      content: `${roomId} ${i + 1}`,
      createdAt: new Date(0).toISOString(),
    }));
    stored.set(roomId, list);
    return list;
  };
  /** Resolves once `check` holds, re-checked after every callback of the RoomSync. */
  const until = (check: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const probe = () => {
        if (!check()) return;
        probes.delete(probe);
        resolve();
      };
      probes.add(probe);
      probe();
    });
  const syncedRooms = () => synced.flat();
  const seqsOf = (roomId: string) => released.filter((m) => m.roomId === roomId).map((m) => m.seq);
  return { rooms, store, requests, released, synced, errors, failures, until, syncedRooms, seqsOf };
}

describe('RoomSync', () => {
  test('after a connect, syncs only the rooms that are behind, from their cursors, and forgets rooms no longer joined', async () => {
    const h = harness({ cursors: { a: 2, b: 5, gone: 3 } });
    h.store('a', 4);
    h.store('b', 5);
    h.store('c', 2);
    h.rooms.resume([
      { roomId: 'a', lastSeq: 4 },
      { roomId: 'b', lastSeq: 5 },
      { roomId: 'c', lastSeq: 2 },
    ]);
    await h.until(() => h.syncedRooms().length === 2);
    expect(h.requests).toEqual([{ rooms: [{ roomId: 'a', afterSeq: 2 }, { roomId: 'c' }] }]);
    expect(h.synced).toEqual([['a', 'c']]);
    expect(h.seqsOf('a')).toEqual([3, 4]);
    expect(h.seqsOf('c')).toEqual([1, 2]);
    expect(h.rooms.cursors()).toEqual({ a: 4, b: 5, c: 2 });
  });

  test('with every room up to date, reports an empty sync at once and asks the server nothing', () => {
    const h = harness({ cursors: { a: 4 } });
    h.rooms.resume([{ roomId: 'a', lastSeq: 4 }]);
    expect(h.synced).toEqual([[]]);
    expect(h.requests).toEqual([]);
  });

  test('a live gap is filled by a paged sync from the cursor: every message once, in order', async () => {
    const h = harness({ cursors: { a: 1 }, pageSize: 2 });
    const [, m2, , , m5] = h.store('a', 7);
    h.rooms.accept(m2!);
    expect(h.seqsOf('a')).toEqual([2]);
    expect(h.requests).toEqual([]);
    h.rooms.accept(m5!);
    await h.until(() => h.syncedRooms().includes('a'));
    expect(h.seqsOf('a')).toEqual([2, 3, 4, 5, 6, 7]);
    // The held message 5 joins the stream as soon as page one reaches 4, so page two starts after it.
    expect(h.requests.map((r) => r.rooms)).toEqual([[{ roomId: 'a', afterSeq: 2 }], [{ roomId: 'a', afterSeq: 5 }]]);
    expect(h.rooms.cursors()).toEqual({ a: 7 });
  });

  test('a gap filled by live delivery within the grace period (copies that crossed) costs no sync', () => {
    jest.useFakeTimers();
    try {
      const h = harness({ cursors: { a: 1 } });
      const [, m2, m3] = h.store('a', 3);
      // Our own message 3 is acknowledged before the broadcast of message 2 reaches us.
      h.rooms.accept(m3!);
      expect(h.seqsOf('a')).toEqual([]);
      h.rooms.accept(m2!);
      expect(h.seqsOf('a')).toEqual([2, 3]);
      jest.advanceTimersByTime(5_000);
      expect(h.requests).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a gap the server never fills is synced three times, then its messages are released anyway', async () => {
    const h = harness({ cursors: { a: 1 }, missing: [2] });
    const [, m2, m3] = h.store('a', 4);
    h.rooms.accept(m3!);
    await h.until(() => h.syncedRooms().includes('a'));
    expect(h.requests).toHaveLength(3);
    expect(h.seqsOf('a')).toEqual([3, 4]);
    // The skipped seq, arriving late, is still delivered rather than lost.
    h.rooms.accept(m2!);
    expect(h.seqsOf('a')).toEqual([3, 4, 2]);
  });

  test('a failed sync is reported as an error, and the next request starts the loop again', async () => {
    const h = harness();
    h.store('a', 2);
    h.failures.push(new ChatError('UNAVAILABLE', 'node down'));
    h.rooms.resume([{ roomId: 'a', lastSeq: 2 }]);
    await h.until(() => h.errors.length === 1);
    expect(h.errors.map((e) => e.code)).toEqual(['UNAVAILABLE']);
    expect(h.synced).toEqual([]);
    h.rooms.joined('a');
    await h.until(() => h.syncedRooms().includes('a'));
    expect(h.seqsOf('a')).toEqual([1, 2]);
  });

  test('many stale rooms are synced by one loop, at most 20 rooms per call', async () => {
    const h = harness();
    const ids = Array.from({ length: 45 }, (_, i) => `r${i}`);
    h.rooms.resume(ids.map((roomId) => ({ roomId, lastSeq: 0 })));
    await h.until(() => h.syncedRooms().length === 45);
    expect(h.requests.map((r) => r.rooms!.length)).toEqual([20, 20, 5]);
    expect(h.syncedRooms().sort()).toEqual([...ids].sort());
  });

  test('a room left is forgotten: no cursor, and a sync waiting for it is dropped', async () => {
    const h = harness({ cursors: { a: 1, b: 1 } });
    h.store('a', 3);
    h.store('b', 3);
    // The first call is in flight for `a` while `b` waits; leaving `b` drops it.
    h.rooms.joined('a');
    h.rooms.joined('b');
    h.rooms.left('b');
    await h.until(() => h.syncedRooms().includes('a'));
    expect(h.requests.map((r) => r.rooms)).toEqual([[{ roomId: 'a', afterSeq: 1 }]]);
    expect(h.rooms.cursors()).toEqual({ a: 3 });
  });
});
