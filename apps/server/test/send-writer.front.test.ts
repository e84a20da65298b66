// The relay's front (a node that is not the writer) keeps several batches on their way to the writer at once
// (SEND_RELAY_MAX_IN_FLIGHT): a send does not wait for the answer to the batch before it, and the writer's
// own group commit merges what arrives (docs/performance.md, "The relay's front in flight"). Two send writers
// on one real Redis through their relays; the writer's batch store is the group commit's seam, held open
// until the test releases it (what a batch does in PostgreSQL is tested with real nodes).
import { randomBytes } from 'node:crypto';
import { testServices, waitUntil } from '@chat/testkit';
import { Redis } from 'ioredis';
import type { MessageRow } from '../src/views/message-view';
import type { SendRequest } from '../src/features/messages/group-commit';
import { SendWriter, type SendRoute, type SendWriterOptions } from '../src/features/messages/send-writer';
import { RedisNodeRelay } from '../src/infra/relay/redis-node-relay';

const redis = new Redis(testServices().redisUrl);
afterAll(() => redis.disconnect());

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function storedRow(r: SendRequest, seq: number): MessageRow {
  const { id, roomId: room_id, senderId: sender_id, senderName: sender_name, content } = r;
  return { id, room_id, seq, sender_id, sender_name, content, reply_to: null, created_at: new Date(0), edited_at: null, deleted_at: null };
}

/**
 * A writer node and a front node on a fresh key prefix; the writer's commits wait for `release` (while
 * `holding`). An id stored before is answered as a retry (`created: false`).
 */
async function cluster(
  relayMaxInFlight: number,
  { onRelayedStored, holdCommits = true, relayTimeoutMs = 5_000 }: { onRelayedStored?: SendWriterOptions['onRelayedStored']; holdCommits?: boolean; relayTimeoutMs?: number } = {},
) {
  const keyPrefix = `front-test-${randomBytes(4).toString('hex')}:`;
  const writerRelay = await RedisNodeRelay.open(redis, { nodeId: 'node-w', leaseMs: 3000, keyPrefix });
  const frontRelay = await RedisNodeRelay.open(redis, { nodeId: 'node-f', leaseMs: 3000, keyPrefix });
  const committed: string[][] = [];
  const releases: (() => void)[] = [];
  let holding = holdCommits;
  const stored = new Set<string>();
  const store = async (reqs: SendRequest[]) => {
    committed.push(reqs.map((r) => r.id));
    if (holding) await new Promise<void>((resolve) => releases.push(resolve));
    return reqs.map((r, i) => {
      const created = !stored.has(r.id);
      stored.add(r.id);
      return { row: storedRow(r, committed.length * 100 + i), created };
    });
  };
  const routes: SendRoute[] = [];
  const options = {
    mode: 'relay' as const,
    groupCommit: { maxDelayMs: 0, maxBatch: 256 },
    relayTimeoutMs,
    relayMinRate: 0,
    relayMaxInFlight,
    onBatch: () => {},
  };
  const writer = new SendWriter(store, writerRelay, { ...options, ...(onRelayedStored ? { onRelayedStored } : {}) });
  const front = new SendWriter(store, frontRelay, { ...options, onRoute: (route, count) => routes.push(...Array<SendRoute>(count).fill(route)) });
  closers.push(async () => {
    holding = false;
    releases.forEach((release) => release());
    await front.close();
    await writer.close();
    await frontRelay.close();
    await writerRelay.close();
  });
  expect(frontRelay.writer()).toBe('node-w');
  const send = (id: string, writerAnnounces?: boolean) =>
    front.submit({ id, roomId: 'r', senderId: 'u', senderName: 'U', content: 'hi', replyTo: undefined, ...(writerAnnounces === undefined ? {} : { writerAnnounces }) });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return { writer, front, committed, releases, routes, send, turn, writerRelay, frontRelay };
}

describe('send writer: the relay front in flight', () => {
  test('a send through the front reaches the writer while the batch before it is still committing', async () => {
    const { writer, front, committed, releases, routes, send, turn } = await cluster(4);
    const first = send('a');
    await waitUntil(async () => committed.length === 1 || undefined, { description: 'the first batch commits on the writer', timeoutMs: 5_000, intervalMs: 5 });
    await turn();
    const second = send('b');
    // b left the front at once and waits in the writer's own group commit, behind a's batch.
    await waitUntil(async () => writer.depth === 1 || undefined, { description: 'b queued on the writer', timeoutMs: 5_000, intervalMs: 5 });
    expect(front.depth).toBe(0);
    releases[0]!();
    await waitUntil(async () => committed.length === 2 || undefined, { description: 'the second batch commits', timeoutMs: 5_000, intervalMs: 5 });
    releases[1]!();
    await expect(Promise.all([first, second])).resolves.toEqual([
      expect.objectContaining({ created: true, row: expect.objectContaining({ id: 'a' }) as unknown }),
      expect.objectContaining({ created: true, row: expect.objectContaining({ id: 'b' }) as unknown }),
    ]);
    expect(committed).toEqual([['a'], ['b']]);
    expect(routes).toEqual(['relayed', 'relayed']);
  });

  test('with one in flight, the next send waits on the front until the batch before it is answered', async () => {
    const { writer, front, committed, releases, send, turn } = await cluster(1);
    const first = send('a');
    await waitUntil(async () => committed.length === 1 || undefined, { description: 'the first batch commits on the writer', timeoutMs: 5_000, intervalMs: 5 });
    await turn();
    const second = send('b');
    await turn();
    expect(front.depth).toBe(1);
    expect(writer.depth).toBe(0);
    releases[0]!();
    await waitUntil(async () => committed.length === 2 || undefined, { description: 'the second batch commits', timeoutMs: 5_000, intervalMs: 5 });
    releases[1]!();
    await Promise.all([first, second]);
    expect(committed).toEqual([['a'], ['b']]);
  });
});

describe('send writer: the writer announces what it commits for another node', () => {
  test('a send that asks for it is handed to the writer to broadcast and answered as announced; others, and retries, are not', async () => {
    const heard: [string, boolean][] = [];
    const { send } = await cluster(4, { onRelayedStored: (row, announce) => heard.push([row.id, announce]), holdCommits: false });
    const [asked, notAsked] = await Promise.all([send('a', true), send('b', false)]);
    expect(asked).toMatchObject({ created: true, announced: true, row: { id: 'a' } });
    expect(notAsked).toMatchObject({ created: true, announced: false, row: { id: 'b' } });
    // A retry is answered from the store: the node it came through decides whether to broadcast it again.
    expect(await send('a', true)).toMatchObject({ created: false, announced: false, row: { id: 'a' } });
    expect(heard).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  test('a writer that broadcasts nothing (no onRelayedStored) answers nothing as announced', async () => {
    const { send } = await cluster(4, { holdCommits: false });
    expect(await send('a', true)).toMatchObject({ created: true, announced: false });
  });

  test('a batch the writer answers too late is committed here; what the writer stored and broadcast is not broadcast again', async () => {
    const heard: [string, boolean][] = [];
    const { committed, releases, routes, send } = await cluster(4, { onRelayedStored: (row, announce) => heard.push([row.id, announce]), relayTimeoutMs: 200 });
    const sent = send('a', true);
    // The writer's commit is held past the relay's timeout: the front commits the batch itself, also held.
    await waitUntil(async () => committed.length === 2 || undefined, { description: 'the fallback commit', timeoutMs: 5_000, intervalMs: 5 });
    releases[0]!();
    await waitUntil(async () => heard.length === 1 || undefined, { description: 'the writer stores and broadcasts a', timeoutMs: 5_000, intervalMs: 5 });
    releases[1]!();
    // Found stored here, while the writer still holds its lease: it broadcast a, so this node must not.
    await expect(sent).resolves.toMatchObject({ created: false, announced: true, row: { id: 'a' } });
    expect(heard).toEqual([['a', true]]);
    expect(routes).toEqual(['fallback']);
  });

  test('after the writer gave up its lease, a send found stored by the fallback is broadcast by this node', async () => {
    const { committed, releases, send, writerRelay, frontRelay } = await cluster(4, { onRelayedStored: () => {}, relayTimeoutMs: 200 });
    const sent = send('a', true);
    await waitUntil(async () => committed.length === 2 || undefined, { description: 'the fallback commit', timeoutMs: 5_000, intervalMs: 5 });
    releases[0]!();
    await writerRelay.close();
    await waitUntil(async () => frontRelay.writer() !== 'node-w' || undefined, { description: 'the front no longer names the writer', timeoutMs: 5_000, intervalMs: 20 });
    releases[1]!();
    const result = await sent;
    expect(result).toMatchObject({ created: false, row: { id: 'a' } });
    expect(result.announced).toBeFalsy();
  });
});
