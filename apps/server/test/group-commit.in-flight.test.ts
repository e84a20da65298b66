// How many batches a group commit has committing at once (`maxInFlight`): one by default, so batches grow
// with load behind the one in flight; more for the relay's front, whose store (the writer node's own group
// commit) merges its batches anyway (docs/performance.md, "The relay's front in flight"), and for a node's own
// group commit if GROUP_COMMIT_MAX_IN_FLIGHT says so, answering its batches in the order they started. The
// store is the group commit's seam for batches that do not go to the database here; held open until a test
// releases it.
import type { MessageRow } from '../src/views/message-view';
import { GroupCommitWriter, type SendRequest } from '../src/features/messages/group-commit';

function heldWriter(maxInFlight: number | undefined, answerInOrder = false) {
  const started: string[][] = [];
  const releases: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const w = new GroupCommitWriter(
    async (reqs) => {
      started.push(reqs.map((r) => r.id));
      await new Promise<void>((resolve, reject) => releases.push({ resolve, reject }));
      return reqs.map((r) => ({ row: { id: r.id } as unknown as MessageRow, created: true }));
    },
    { maxDelayMs: 0, maxBatch: 256, answerInOrder, ...(maxInFlight === undefined ? {} : { maxInFlight }) },
  );
  const acked: string[] = [];
  const send = (id: string) => {
    const req: SendRequest = { id, roomId: 'r', senderId: 'u', senderName: 'U', content: 'hi', replyTo: undefined };
    return w.submit(req).then(({ row }) => void acked.push(row.id));
  };
  /** The end of this turn of the event loop, when a group commit starts what arrived in it. */
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  /** Sends each id in a turn of its own (each arrives while the batches before it commit). */
  const sendEach = async (...ids: string[]) => {
    const sent: Promise<void>[] = [];
    for (const id of ids) {
      sent.push(send(id));
      await turn();
    }
    return sent;
  };
  const release = async (k: number, err?: Error) => {
    if (err) releases[k]!.reject(err);
    else releases[k]!.resolve();
    // The answer settles in microtasks, which then schedule the next batch for the end of a turn: two turns.
    await turn();
    await turn();
  };
  return { w, started, acked, send, sendEach, release };
}

describe('group commit: batches in flight', () => {
  test('by default a batch waits for the one committing, then carries everything that came meanwhile', async () => {
    const { started, acked, sendEach, release } = heldWriter(undefined);
    const sent = await sendEach('a', 'b', 'c');
    expect(started).toEqual([['a']]);
    await release(0);
    expect(started).toEqual([['a'], ['b', 'c']]);
    expect(acked).toEqual(['a']);
    await release(1);
    await Promise.all(sent);
    expect(acked).toEqual(['a', 'b', 'c']);
  });

  test('with two in flight, a send does not wait for the batch before it; a third batch waits for a free slot', async () => {
    const { started, acked, sendEach, release } = heldWriter(2);
    const sent = await sendEach('a', 'b');
    expect(started).toEqual([['a'], ['b']]);
    sent.push(...(await sendEach('c', 'd')));
    expect(started).toEqual([['a'], ['b']]);
    // The second batch is answered first: its sends are acknowledged at once, and the waiting ones start.
    await release(1);
    expect(acked).toEqual(['b']);
    expect(started).toEqual([['a'], ['b'], ['c', 'd']]);
    await release(0);
    await release(2);
    await Promise.all(sent);
    expect(acked).toEqual(['b', 'a', 'c', 'd']);
  });

  test('answering in order, a batch answered first waits for the one started before it, and keeps its slot', async () => {
    const { started, acked, sendEach, release } = heldWriter(2, true);
    const sent = await sendEach('a', 'b', 'c');
    expect(started).toEqual([['a'], ['b']]);
    await release(1);
    expect(acked).toEqual([]);
    expect(started).toEqual([['a'], ['b']]);
    await release(0);
    expect(acked).toEqual(['a', 'b']);
    expect(started).toEqual([['a'], ['b'], ['c']]);
    await release(2);
    await Promise.all(sent);
    expect(acked).toEqual(['a', 'b', 'c']);
  });

  test('answering in order, a batch that failed does not hold back the one after it', async () => {
    const { started, acked, sendEach, release } = heldWriter(2, true);
    const [a, b] = await sendEach('a', 'b');
    const outcomeOfA = a!.then(
      () => 'acked',
      (err: Error) => err.message,
    );
    expect(started).toEqual([['a'], ['b']]);
    await release(1);
    expect(acked).toEqual([]);
    await release(0, new Error('connection lost'));
    expect(await outcomeOfA).toBe('connection lost');
    await b;
    expect(acked).toEqual(['b']);
  });

  test('close commits what waits behind full slots and resolves once every batch is answered', async () => {
    const { w, started, acked, send, sendEach, release } = heldWriter(2);
    const sent = await sendEach('a', 'b', 'c');
    let closed = false;
    const closing = w.close().then(() => void (closed = true));
    await expect(send('late')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await release(0);
    expect(started).toEqual([['a'], ['b'], ['c']]);
    await release(1);
    expect(closed).toBe(false);
    await release(2);
    await closing;
    await Promise.all(sent);
    expect(closed).toBe(true);
    expect(acked).toEqual(['a', 'b', 'c']);
  });
});
