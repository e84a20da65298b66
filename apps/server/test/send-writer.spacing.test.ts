// On the writer node (one node, or the lease holder), a send goes straight to the node's spaced group commit:
// the relay's front batcher is for batches bound to another node. Behind the front, a send that arrived
// while the front's batch waited for the writer's next start missed that start and waited for one more
// interval (docs/performance.md, "The writer's own sends"). Fake clock; the store is the group commit's seam.
import type { MessageRow } from '../src/views/message-view';
import type { SendRequest } from '../src/features/messages/group-commit';
import { SendWriter, type SendRoute } from '../src/features/messages/send-writer';
import { LocalNodeRelay } from '../src/infra/relay/node-relay';

const INTERVAL = 50;
const COMMIT_MS = 5;

describe('send writer: the writer node spaces its own sends once', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'], now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test('a send arriving between two spaced batches rides the next one, not the one after', async () => {
    const batches: string[][] = [];
    const routes: SendRoute[] = [];
    const writer = new SendWriter(
      async (reqs: SendRequest[]) => {
        batches.push(reqs.map((r) => r.content));
        await new Promise((resolve) => setTimeout(resolve, COMMIT_MS));
        return reqs.map((r) => ({ row: { id: r.id } as unknown as MessageRow, created: true }));
      },
      new LocalNodeRelay('n1'),
      {
        mode: 'relay',
        // A rate of 0 spaces every batch: the interval alone.
        groupCommit: { maxDelayMs: 0, maxBatch: 256, minIntervalMs: INTERVAL, minIntervalFromRate: 0, now: () => Date.now() },
        relayTimeoutMs: 2_000,
        relayMinRate: 0,
        onBatch: () => {},
        onRoute: (route, count) => routes.push(...Array<SendRoute>(count).fill(route)),
      },
    );
    const start = Date.now();
    const ackedAt = new Map<string, number>();
    const send = (content: string) =>
      writer.submit({ id: content, roomId: 'r', senderId: 'u', senderName: 'U', content, replyTo: undefined }).then(() => ackedAt.set(content, Date.now() - start));

    const a = send('a');
    await jest.advanceTimersByTimeAsync(1);
    const b = send('b'); // while a's batch commits
    await jest.advanceTimersByTimeAsync(19);
    const c = send('c'); // after it committed, before the next start
    await jest.advanceTimersByTimeAsync(200);
    await Promise.all([a, b, c]);

    expect(batches).toEqual([['a'], ['b', 'c']]);
    expect(Object.fromEntries(ackedAt)).toEqual({ a: COMMIT_MS, b: INTERVAL + COMMIT_MS, c: INTERVAL + COMMIT_MS });
    expect(routes).toEqual(['local', 'local', 'local']);
    await writer.close();
  });
});
