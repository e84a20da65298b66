import { ChatError, type Message } from '@chat/protocol';
import { MemoryOutboxStorage, Outbox, type OutboxItem } from '@chat/client';

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
});
