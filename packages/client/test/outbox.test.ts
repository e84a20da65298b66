import { ChatError, type Message } from '@chat/protocol';
import { MemoryOutboxStorage, Outbox, notAnswered, type OutboxItem } from '@chat/client';

type Sent = { id: string; roomId: string; content: string; resolve: (m: Message) => void; reject: (e: unknown) => void };

function harness(opts: { maxInFlight?: number; intervalMs?: number; storage?: MemoryOutboxStorage } = {}) {
  const storage = opts.storage ?? new MemoryOutboxStorage();
  const calls: Sent[] = [];
  let n = 0;
  const outbox = new Outbox({
    storage,
    intervalMs: opts.intervalMs ?? 100,
    maxInFlight: opts.maxInFlight,
    backoff: { baseMs: 1000, maxMs: 1000, random: () => 0.5 },
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    send: (item) => new Promise<Message>((resolve, reject) => calls.push({ ...item, resolve, reject })),
  });
  const changes: OutboxItem[] = [];
  outbox.on('change', (i) => changes.push(i));
  return { outbox, storage, calls, changes };
}

const messageFor = (c: Sent, seq: number): Message => ({
  id: c.id,
  roomId: c.roomId,
  seq,
  senderId: 'u1',
  senderName: 'a',
  content: c.content,
  createdAt: new Date(0).toISOString(),
});

// Lets promise callbacks of settled sends run under fake timers.
const flush = () => Promise.resolve().then(() => undefined);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Outbox', () => {
  test('keeps offline sends queued, then sends one per room at a time, in order', async () => {
    const { outbox, calls } = harness();
    outbox.enqueue('r1', 'a');
    outbox.enqueue('r1', 'b');
    outbox.enqueue('r1', 'c');
    expect(calls).toHaveLength(0);
    expect(outbox.list().map((i) => i.state)).toEqual(['queued', 'queued', 'queued']);

    outbox.setOnline(true);
    jest.advanceTimersByTime(10_000);
    // The second message of the room waits for the first one's ack.
    expect(calls.map((c) => c.content)).toEqual(['a']);
    expect(outbox.list().map((i) => i.state)).toEqual(['sending', 'queued', 'queued']);

    calls[0]!.resolve(messageFor(calls[0]!, 1));
    await flush();
    jest.advanceTimersByTime(100);
    calls[1]!.resolve(messageFor(calls[1]!, 2));
    await flush();
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.content)).toEqual(['a', 'b', 'c']);
    calls[2]!.resolve(messageFor(calls[2]!, 3));
    await flush();
    expect(outbox.list()).toEqual([]);
  });

  test('paces sends across rooms: one start per interval, never all at once, capped in flight', () => {
    const { outbox, calls } = harness({ maxInFlight: 3, intervalMs: 100 });
    for (let r = 0; r < 6; r++) outbox.enqueue(`r${r}`, `m${r}`);
    outbox.setOnline(true);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(99);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(2);
    jest.advanceTimersByTime(100);
    expect(calls).toHaveLength(3);
    jest.advanceTimersByTime(10_000);
    // maxInFlight holds the rest until an ack frees a slot.
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.roomId)).toEqual(['r0', 'r1', 'r2']);
  });

  test('persists items with their ids; a reload resends an interrupted item with the same id', async () => {
    const storage = new MemoryOutboxStorage();
    const first = harness({ storage });
    const a = first.outbox.enqueue('r1', 'a');
    const b = first.outbox.enqueue('r1', 'b');
    first.outbox.setOnline(true);
    expect(first.calls.map((c) => c.id)).toEqual([a.id]);
    expect(storage.load().map((i) => [i.id, i.state])).toEqual([
      [a.id, 'sending'],
      [b.id, 'queued'],
    ]);
    first.outbox.close();

    // The page reloads while `a` is in flight.
    const second = harness({ storage });
    expect(second.outbox.list().map((i) => [i.id, i.state, i.content])).toEqual([
      [a.id, 'queued', 'a'],
      [b.id, 'queued', 'b'],
    ]);
    second.outbox.setOnline(true);
    expect(second.calls.map((c) => c.id)).toEqual([a.id]);
    second.calls[0]!.resolve(messageFor(second.calls[0]!, 1));
    await flush();
    jest.advanceTimersByTime(100);
    expect(second.calls.map((c) => c.id)).toEqual([a.id, b.id]);
    expect(storage.load().map((i) => i.id)).toEqual([b.id]);
  });

  test('a permanent error marks the item failed and the room moves on; retry requeues it with its id', async () => {
    const { outbox, calls, changes } = harness();
    const a = outbox.enqueue('r1', 'a');
    outbox.enqueue('r1', 'b');
    outbox.setOnline(true);
    calls[0]!.reject(new ChatError('FORBIDDEN', 'timed out'));
    await flush();
    expect(outbox.list().map((i) => i.state)).toEqual(['failed', 'queued']);
    expect(outbox.list()[0]!.error).toEqual({ code: 'FORBIDDEN', message: 'timed out' });
    expect(changes.filter((c) => c.id === a.id).map((c) => c.state)).toEqual(['queued', 'sending', 'failed']);
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.content)).toEqual(['a', 'b']);

    outbox.retry(a.id);
    calls[1]!.resolve(messageFor(calls[1]!, 1));
    await flush();
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.id)).toEqual([a.id, calls[1]!.id, a.id]);
  });

  test('transient errors back off and retry with the same id, then fail after maxAttempts', async () => {
    const { outbox, calls } = harness();
    const a = outbox.enqueue('r1', 'a');
    outbox.setOnline(true);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(calls).toHaveLength(attempt);
      calls[attempt - 1]!.reject(new ChatError('RATE_LIMITED', 'slow down', { retryAfterMs: 700 }));
      await flush();
      if (attempt < 5) {
        expect(outbox.list()[0]!.state).toBe('queued');
        jest.advanceTimersByTime(699);
        expect(calls).toHaveLength(attempt);
        jest.advanceTimersByTime(1);
      }
    }
    expect(calls.every((c) => c.id === a.id)).toBe(true);
    expect(outbox.list()[0]).toMatchObject({ id: a.id, state: 'failed', attempts: 5 });
  });

  test('going offline stops starting new sends', () => {
    const { outbox, calls } = harness();
    outbox.enqueue('r1', 'a');
    outbox.enqueue('r2', 'b');
    outbox.setOnline(true);
    outbox.setOnline(false);
    jest.advanceTimersByTime(10_000);
    expect(calls.map((c) => c.content)).toEqual(['a']);
  });

  test('a send that got no answer never fails the item: it keeps its place and goes again with the same id', async () => {
    const { outbox, calls } = harness();
    const a = outbox.enqueue('r1', 'a');
    outbox.enqueue('r1', 'b');
    outbox.setOnline(true);
    // Ten disconnects in a row while "a" is in flight (twice maxAttempts): still queued, never failed.
    for (let i = 0; i < 10; i++) {
      outbox.setOnline(false);
      calls[i]!.reject(notAnswered('socket has been disconnected'));
      await flush();
      expect(outbox.list().map((x) => x.state)).toEqual(['queued', 'queued']);
      outbox.setOnline(true);
      jest.advanceTimersByTime(60_000);
      expect(calls).toHaveLength(i + 2);
    }
    // "b" never overtook "a".
    expect(calls.every((c) => c.id === a.id)).toBe(true);
    calls[10]!.resolve(messageFor(calls[10]!, 1));
    await flush();
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.content).slice(-2)).toEqual(['a', 'b']);
  });

  test('a backlog written offline is paced out after reconnecting: one start per interval, in order per room', async () => {
    const { outbox, calls } = harness({ intervalMs: 100, maxInFlight: 4 });
    for (let i = 0; i < 12; i++) outbox.enqueue(`r${i % 3}`, `m${i}`);
    jest.advanceTimersByTime(5_000);
    expect(calls).toHaveLength(0);
    outbox.setOnline(true);
    const startedAt: number[] = [];
    let acked = 0;
    // Ack everything as soon as it starts; record when each send started.
    for (let t = 0; t <= 3_000 && acked < 12; t += 10) {
      while (startedAt.length < calls.length) startedAt.push(t);
      for (; acked < calls.length; acked++) calls[acked]!.resolve(messageFor(calls[acked]!, acked + 1));
      await flush();
      jest.advanceTimersByTime(10);
    }
    expect(calls).toHaveLength(12);
    // Never two starts within one interval: the backlog is not flushed at once.
    for (let i = 1; i < startedAt.length; i++) expect(startedAt[i]! - startedAt[i - 1]!).toBeGreaterThanOrEqual(100);
    for (const room of ['r0', 'r1', 'r2']) {
      const inRoom = calls.filter((c) => c.roomId === room).map((c) => Number(c.content.slice(1)));
      expect(inRoom).toEqual([...inRoom].sort((x, y) => x - y));
    }
  });

  test('settled() follows an item to its stored message or its failure; add() with a known id is idempotent and retries a failed one', async () => {
    const { outbox, calls } = harness();
    outbox.setOnline(true);
    const first = outbox.add({ id: '11111111-1111-4111-8111-111111111111', roomId: 'r1', content: 'hi' });
    const ok = outbox.settled(first.id);
    expect(outbox.add({ id: first.id, roomId: 'r1', content: 'hi' }).state).toBe('sending');
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(messageFor(calls[0]!, 7));
    await expect(ok).resolves.toMatchObject({ id: first.id, seq: 7 });
    // Right after the ack, the answer is still known.
    await expect(outbox.settled(first.id)).resolves.toMatchObject({ seq: 7 });

    const bad = outbox.add({ id: '22222222-2222-4222-8222-222222222222', roomId: 'r1', content: 'x' });
    const failed = outbox.settled(bad.id);
    jest.advanceTimersByTime(100);
    calls[1]!.reject(new ChatError('VALIDATION', 'too long'));
    await expect(failed).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(outbox.settled(bad.id)).rejects.toMatchObject({ code: 'VALIDATION' });
    // Adding the failed id again is a retry with the same id, in the same place.
    expect(outbox.add({ id: bad.id, roomId: 'r1', content: 'x' }).state).toBe('queued');
    jest.advanceTimersByTime(100);
    expect(calls.map((c) => c.id)).toEqual([first.id, bad.id, bad.id]);
    await expect(outbox.settled('33333333-3333-4333-8333-333333333333')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('items survive a restart of the outbox (a page reload): same ids, same order, a send that was in flight goes again', () => {
    const storage = new MemoryOutboxStorage();
    const first = harness({ storage });
    const a = first.outbox.enqueue('r1', 'a');
    const b = first.outbox.enqueue('r1', 'b');
    first.outbox.setOnline(true);
    expect(first.calls.map((c) => c.id)).toEqual([a.id]);
    first.outbox.close();

    const second = harness({ storage });
    expect(second.outbox.list().map((i) => [i.id, i.state])).toEqual([
      [a.id, 'queued'],
      [b.id, 'queued'],
    ]);
    second.outbox.setOnline(true);
    expect(second.calls.map((c) => c.id)).toEqual([a.id]);
  });
});
