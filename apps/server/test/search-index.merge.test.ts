import { randomUUID } from 'node:crypto';
import { sql } from '@chat/db';
import { waitUntil } from '@chat/testkit';
import { BACKENDS, createRoom, http, registerUser, type TestUser } from './support/harness';
import { useNode, type NodeFixture } from './support/node-fixture';

// New messages enter the full-text index through GIN's pending list, and the node merges that list in the
// background (db/migrations/0008_search_index_merged_in_background.sql): searchable at once, merged soon
// after, and one merge at a time across the cluster.

async function sendWords(node: NodeFixture, user: TestUser, roomId: string, word: string, count: number): Promise<void> {
  const { socket } = await node.connect(user.accessToken);
  // All at once: one group-commit batch, or a few close together (well inside the merge interval below).
  const acks = await Promise.all(
    Array.from({ length: count }, (_, i) => socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: `${word} number ${i}` })),
  );
  expect(acks.every((ack) => ack.ok)).toBe(true);
  socket.close();
}

async function search(node: NodeFixture, user: TestUser, word: string): Promise<number> {
  const res = await http<{ results: unknown[] }>(node.url, 'GET', `/api/search?q=${word}`, { token: user.accessToken });
  expect(res.status).toBe(200);
  return res.body.results.length;
}

const mergePending = async (node: NodeFixture) =>
  Number((await sql<{ pages: number }>`select chat_merge_search_pending() as pages`.execute(node.app.db.primary)).rows[0]!.pages);

describe.each(BACKENDS)('search index pending list on %s', (backend) => {
  describe('with the merge left to PostgreSQL', () => {
    const node = useNode(backend, { env: { SEARCH_INDEX_MERGE_INTERVAL_MS: '0' } });

    test('new messages wait in the pending list and are searchable before it is merged', async () => {
      const user = await registerUser(node);
      const roomId = await createRoom(node, user);
      await sendWords(node, user, roomId, 'quokka', 5);
      expect(await search(node, user, 'quokka')).toBe(5);
      // Something was pending (the list is on), and merging it keeps every result.
      expect(await mergePending(node)).toBeGreaterThan(0);
      expect(await mergePending(node)).toBe(0);
      expect(await search(node, user, 'quokka')).toBe(5);
      expect(await node.app.metrics.searchIndexMergedPages.get()).toMatchObject({ values: [{ value: 0 }] });
    });
  });

  describe('with the node merging', () => {
    const node = useNode(backend, { env: { SEARCH_INDEX_MERGE_INTERVAL_MS: '250' } });

    test('the node merges what it stored, and the messages stay searchable', async () => {
      const user = await registerUser(node);
      const roomId = await createRoom(node, user);
      await sendWords(node, user, roomId, 'numbat', 5);
      await waitUntil(async () => ((await node.app.metrics.searchIndexMergedPages.get()).values[0]?.value ?? 0) > 0, {
        description: 'the node to merge the pending list',
      });
      expect(await mergePending(node)).toBe(0);
      expect(await search(node, user, 'numbat')).toBe(5);
    });
  });
});

// PostgreSQL only: an embedded node has one connection, so no other session can hold the lock.
describe('search index merge across nodes', () => {
  const node = useNode('postgres', { env: { SEARCH_INDEX_MERGE_INTERVAL_MS: '0' } });

  test('a node finding another merging skips its turn', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    await sendWords(node, user, roomId, 'wombat', 2);
    await node.app.db.primary.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('chat_merge_search_pending'))`.execute(trx);
      expect(await mergePending(node)).toBe(-1);
    });
    expect(await mergePending(node)).toBeGreaterThan(0);
  });
});
