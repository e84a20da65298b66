import { randomUUID } from 'node:crypto';
import { asReadonly, sql, type Database, type DB, type Kysely } from '@chat/db';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { Accounts } from '../src/features/auth/accounts';
import { historyPage, syncPages, syncRooms } from '../src/features/messages/message-reads';
import { connectRaw, createRoom, joinRoom, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// Single-flight over the real history and sync queries on PostgreSQL: identical reads made together cost
// one query, different ones are not merged, and a failure reaches every waiter without being remembered.
// Queries are counted by a Kysely plugin on the node's own primary handle (same pool, same SQL).

class QueryCounter implements KyselyPlugin {
  /** Queries built (a query compiled once per handle is built once). */
  count = 0;
  /** Queries run. */
  runs = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count++;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.runs++;
    return args.result;
  }
}

describe('single-flight reads on PostgreSQL', () => {
  const node = useNode('postgres', { env: { MESSAGES_PER_SECOND: '100000', SOCKET_EVENTS_IN_FLIGHT_MAX: '1000' } }); // setup sends in bulk
  let counter: QueryCounter;
  let counted: Kysely<DB>;
  const rooms: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  let userId = '';

  beforeAll(async () => {
    const user = await registerUser(node);
    userId = user.user.id;
    rooms.a = await createRoom(node, user, 'public', 'a');
    rooms.b = await createRoom(node, user, 'public', 'b');
    rooms.c = await createRoom(node, user, 'public', 'c');
    const { socket } = await connectRaw(node, user.accessToken);
    try {
      // 60 messages in a, 10 in b, 8 in c.
      for (const [roomId, n] of [
        [rooms.a, 60],
        [rooms.b, 10],
        [rooms.c, 8],
      ] as const) {
        const acks = await Promise.all(
          Array.from({ length: n }, (_, i) => socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: `m${i}` })),
        );
        expect(acks.every((a) => a.ok)).toBe(true);
      }
    } finally {
      socket.close();
    }
    counter = new QueryCounter();
    counted = node.app.db.primary.withPlugin(counter);
  });

  test('25 identical history reads made together run the page query once', async () => {
    const reader = asReadonly(counted);
    const before = counter.count;
    const pages = await Promise.all(Array.from({ length: 25 }, () => historyPage(reader, rooms.a, { limit: 20 })));
    // One page query, one reactions query and one files query (run together), instead of 25 of each.
    expect(counter.count - before).toBe(3);
    expect(pages.every((p) => p === pages[0])).toBe(true);
    expect(pages[0]!.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(pages[0]!.hasMore).toBe(true);
  });

  test('history reads that differ in room, cursor or limit are not merged', async () => {
    const reader = asReadonly(counted);
    const before = counter.count;
    const [newest, older, newer, smaller, otherRoom] = await Promise.all([
      historyPage(reader, rooms.a, { limit: 20 }),
      historyPage(reader, rooms.a, { before: 41, limit: 20 }),
      historyPage(reader, rooms.a, { after: 50, limit: 20 }),
      historyPage(reader, rooms.a, { limit: 5 }),
      historyPage(reader, rooms.b, { limit: 20 }),
    ]);
    // Three queries each (page, reactions, files).
    expect(counter.count - before).toBe(15);
    expect(newest.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(older.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 21 + i));
    expect(newer.messages.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i));
    expect(newer.hasMore).toBe(false);
    expect(smaller.messages.map((m) => m.seq)).toEqual([56, 57, 58, 59, 60]);
    expect(otherRoom.messages.map((m) => m.roomId)).toEqual(Array(10).fill(rooms.b));
  });

  test('sync: every distinct (room, cursor) is read once, all in one query, whoever asks', async () => {
    const before = counter.count;
    // Ten reconnecting members: five ask for a and b from the start, five for a from the start and c after 5.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        syncPages(
          counted,
          i < 5
            ? [
                { roomId: rooms.a, afterSeq: 0 },
                { roomId: rooms.b, afterSeq: 0 },
              ]
            : [
                { roomId: rooms.a, afterSeq: 0 },
                { roomId: rooms.c, afterSeq: 5 },
              ],
          50,
        ),
      ),
    );
    expect(counter.count - before).toBe(1);
    for (const pages of results) {
      const a = pages.get(rooms.a)!;
      expect(a.rows.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(a.hasMore).toBe(true);
    }
    expect(results[0]!.get(rooms.b)!.rows.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(results[0]!.get(rooms.b)!.hasMore).toBe(false);
    expect(results[9]!.get(rooms.c)!.rows.map((r) => r.seq)).toEqual([6, 7, 8]);
    expect(results[9]!.has(rooms.b)).toBe(false);
    // The shared page of room a is the same object for all ten callers.
    expect(results.every((r) => r.get(rooms.a) === results[0]!.get(rooms.a))).toBe(true);
  });

  test('sync: the same room with another cursor or limit is a different read', async () => {
    const [first, second, third] = await Promise.all([
      syncPages(counted, [{ roomId: rooms.a, afterSeq: 0 }], 50),
      syncPages(counted, [{ roomId: rooms.a, afterSeq: 50 }], 50),
      syncPages(counted, [{ roomId: rooms.a, afterSeq: 0 }], 3),
    ]);
    expect(first.get(rooms.a)!.rows).toHaveLength(50);
    expect(second.get(rooms.a)!.rows.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i));
    expect(second.get(rooms.a)!.hasMore).toBe(false);
    expect(third.get(rooms.a)!.rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(third.get(rooms.a)!.hasMore).toBe(true);
  });

  test('sync reads no page for a room with nothing after its cursor', async () => {
    const before = counter.runs;
    const answers = await syncRooms(
      counted,
      userId,
      [
        { roomId: rooms.a, afterSeq: 60 },
        { roomId: rooms.b, afterSeq: 10 },
        { roomId: rooms.c, afterSeq: 7 },
      ],
      50,
    );
    expect(answers.map((a) => [a.roomId, a.messages.map((m) => m.seq), a.hasMore, a.lastSeq])).toEqual([
      [rooms.a, [], false, 60],
      [rooms.b, [], false, 10],
      [rooms.c, [8], false, 8],
    ]);
    // The cursors, room c's page, and its message's reactions and files.
    expect(counter.runs - before).toBe(4);
    const upToDate = counter.runs;
    const again = await syncRooms(counted, userId, [{ roomId: rooms.a, afterSeq: 60 }, { roomId: rooms.b }], 50);
    expect(again.map((a) => [a.messages.length, a.hasMore])).toEqual([
      [0, false],
      [10, false],
    ]);
    // Room b from the member's delivered cursor (0, never moved here): read; room a: not.
    expect(counter.runs - upToDate).toBe(4);
    const onlyCursors = counter.runs;
    await syncRooms(counted, userId, [{ roomId: rooms.a, afterSeq: 60 }], 50);
    expect(counter.runs - onlyCursors).toBe(1);
  });

  test('handshakes in one turn read their sessions in one query; a revoked or unknown one is refused', async () => {
    // Only the session read is used: the token and password services are not needed.
    const accounts = new Accounts({ ...node.app.db, primary: counted } as Database, undefined as never, undefined as never, 30);
    const users = await Promise.all(Array.from({ length: 5 }, () => registerUser(node, 'hs')));
    const sessionOf = (u: { refreshToken: string }) => u.refreshToken.split('.')[0]!;
    await joinRoom(node, users[0]!, rooms.a);
    const before = counter.runs;
    const [first, again, ...others] = await Promise.all([
      accounts.sessionAtConnect(sessionOf(users[0]!)),
      accounts.sessionAtConnect(sessionOf(users[0]!)),
      ...users.slice(1).map((u) => accounts.sessionAtConnect(sessionOf(u))),
      accounts.sessionAtConnect(randomUUID()),
    ]);
    expect(counter.runs - before).toBe(1);
    expect(first).toEqual({ displayName: users[0]!.user.displayName, rooms: [{ roomId: rooms.a, lastSeq: 60 }] });
    expect(again).toEqual(first);
    expect(others.slice(0, 4).map((s) => s?.displayName)).toEqual(users.slice(1).map((u) => u.user.displayName));
    expect(others.slice(0, 4).every((s) => s?.rooms.length === 0)).toBe(true);
    expect(others[4]).toBeUndefined();

    await sql`update sessions set revoked_at = now() where id = ${sessionOf(users[1]!)}`.execute(node.app.db.primary);
    const afterRevoke = counter.runs;
    const [revoked, live] = await Promise.all([accounts.sessionAtConnect(sessionOf(users[1]!)), accounts.sessionAtConnect(sessionOf(users[2]!))]);
    expect(counter.runs - afterRevoke).toBe(1);
    expect(revoked).toBeUndefined();
    expect(live?.displayName).toBe(users[2]!.user.displayName);
  });

  test('sync: the cursors of syncs made together are read in one query, each member its own', async () => {
    const other = await registerUser(node, 'sy');
    await joinRoom(node, other, rooms.b);
    const before = counter.runs;
    // Nothing after these cursors: the cursors' read is the only query.
    const [mine, theirs, refused] = await Promise.allSettled([
      syncRooms(counted, userId, [{ roomId: rooms.a, afterSeq: 60 }, { roomId: rooms.c, afterSeq: 8 }], 50),
      syncRooms(counted, other.user.id, [{ roomId: rooms.b, afterSeq: 10 }], 50),
      syncRooms(counted, other.user.id, [{ roomId: rooms.c, afterSeq: 8 }], 50),
    ]);
    expect(counter.runs - before).toBe(1);
    expect(mine.status === 'fulfilled' && mine.value.map((a) => [a.roomId, a.lastSeq])).toEqual([
      [rooms.a, 60],
      [rooms.c, 8],
    ]);
    expect(theirs.status === 'fulfilled' && theirs.value.map((a) => [a.roomId, a.lastSeq])).toEqual([[rooms.b, 10]]);
    // Not a member of c: the other member's row of c does not answer for this one.
    expect(refused.status === 'rejected' && (refused.reason as { code?: string }).code).toBe('NOT_FOUND');
  });

  test('a failing read reaches every waiter once, and the next call queries again', async () => {
    const reader = asReadonly(counted);
    await sql`alter table messages rename to messages_away`.execute(node.app.db.primary);
    let outcomes: PromiseSettledResult<unknown>[];
    const before = counter.count;
    try {
      outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => historyPage(reader, rooms.c, { limit: 20 })));
    } finally {
      await sql`alter table messages_away rename to messages`.execute(node.app.db.primary);
    }
    expect(counter.count - before).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill('rejected'));
    const reasons = new Set(outcomes.map((o) => (o as PromiseRejectedResult).reason as Error));
    expect(reasons.size).toBe(1);
    expect([...reasons][0]!.message).toMatch(/messages/);

    const retry = await historyPage(reader, rooms.c, { limit: 20 });
    expect(retry.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
