import { randomUUID } from 'node:crypto';
import { createDatabase, migrateToLatest, type Database } from '@chat/db';
import { GroupCommitWriter } from '@chat/server/write-path';
import { createTestDatabase } from '@chat/testkit';
import type { Cleanups } from '../cleanups';
import { runClosedLoop } from '../closed-loop';
import { openMessageCounter } from '../message-count';
import type { MeasuredRow } from './measured-row';
import { insertBare, type BenchMessage } from './bare-insert';

export type WriteMode = 'batched' | 'per-message' | 'bare-insert';

export interface WritePathOptions {
  mode: WriteMode;
  primaryUrl: string;
  users: number;
  rooms: number;
  /** Messages outstanding at any time, the same in every mode (like that many concurrent senders). */
  concurrency: number;
  /** Messages per transaction in `batched` mode. */
  batch: number;
  poolMax: number;
  contentBytes: number;
  warmupMs: number;
  durationMs: number;
}

/**
 * The database alone, no sockets: on a 2-core box Socket.IO and the clients compete with PostgreSQL for
 * CPU, so this isolates what batching changes in the database. Every mode keeps `concurrency` messages
 * outstanding: `batched` as concurrency/batch writers committing `batch` messages per transaction (with
 * batch = concurrency, one transaction in flight, as one node's writer does), `per-message` as
 * `concurrency` writers of one message per transaction, both through the node's own `GroupCommitWriter`
 * (the real statements, checks and retries); `bare-insert` as `concurrency` autocommit INSERTs.
 */
export async function measureWritePath(opts: WritePathOptions, cleanups: Cleanups, log: (m: string) => void): Promise<MeasuredRow> {
  const database = await createTestDatabase({ primaryUrl: opts.primaryUrl });
  const dropDatabase = cleanups.add(`drop ${database.name}`, () => database.drop());
  let closing = false;
  const db = await createDatabase({
    kind: 'postgres',
    primaryUrl: database.url,
    poolMax: opts.poolMax,
    // pg's pool.end() resolves before its clients' sockets are closed, so the forced DROP DATABASE can
    // still terminate a few of them: expected then, and worth reporting at any other time.
    logger: { error: (obj, msg) => closing || log(`database error: ${msg ?? ''} ${String((obj as { err?: unknown }).err ?? obj)}`) },
  });
  const closeDb = cleanups.add('close pool', () => db.close());
  await migrateToLatest(db.primary);
  const senders = await seed(db, opts.users, opts.rooms);
  const content = 'x'.repeat(opts.contentBytes);
  let next = 0;
  const message = (): BenchMessage => {
    const s = senders[next++ % senders.length]!;
    return { id: randomUUID(), roomId: s.roomId, senderId: s.userId, content };
  };

  const perTransaction = opts.mode === 'batched' ? Math.min(opts.batch, opts.concurrency) : 1;
  const lanes = Math.ceil(opts.concurrency / perTransaction);
  // One writer per lane, so lanes commit concurrently as separate writers would. A lane submits a whole
  // batch at once: the writer commits it when the batch is full (the delay never runs out first).
  const writers = opts.mode === 'bare-insert' ? [] : Array.from({ length: lanes }, () => new GroupCommitWriter(db, { maxDelayMs: 1000, maxBatch: perTransaction }));
  const closeWriters = cleanups.add('close writers', async () => {
    await Promise.all(writers.map((w) => w.close()));
  });
  log(`write path ${opts.mode}: ${lanes} writers × ${perTransaction} messages per transaction, pool ${opts.poolMax}`);
  const loop = await runClosedLoop({
    lanes,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    operation: async (lane) => {
      if (opts.mode === 'bare-insert') {
        await insertBare(db.primary, message());
        return 1;
      }
      const batch = Array.from({ length: perTransaction }, message);
      await Promise.all(batch.map((m) => writers[lane]!.submit({ ...m, senderName: 'bench', replyTo: undefined })));
      return batch.length;
    },
  });
  await closeWriters();
  const counter = await openMessageCounter(database.url, log);
  const rowsTotal = await counter.count();
  await counter.close();
  closing = true;
  await closeDb();
  await dropDatabase();

  const failures: string[] = [];
  if (loop.errors > 0) failures.push(`${loop.errors} failed transactions, first: ${loop.firstError}`);
  if (loop.messagesTotal !== rowsTotal) failures.push(`${loop.messagesTotal} messages committed but ${rowsTotal} rows stored`);
  const latency = loop.latency.summary();
  return {
    scenario: 'group-commit db',
    mode: opts.mode,
    messagesPerSecond: loop.messagesPerSecond,
    latencyMs: { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
    meanBatch: perTransaction,
    details: {
      writers: lanes,
      messagesPerTransaction: perTransaction,
      poolMax: opts.poolMax,
      windowSeconds: loop.windowSeconds,
      messagesInWindow: loop.messagesInWindow,
      committedTotal: loop.messagesTotal,
      rowsTotal,
      committedEqualsRows: loop.messagesTotal === rowsTotal,
      failedTransactions: loop.errors,
      latencyMaxMs: latency.max,
    },
    failures,
  };
}

/** Users and rooms straight into the tables: user i is a member of room i mod `rooms`. */
async function seed(db: Database, users: number, rooms: number): Promise<{ userId: string; roomId: string }[]> {
  const userIds = Array.from({ length: users }, (_, i) => `bench-user-${i}`);
  const roomIds = Array.from({ length: rooms }, (_, i) => `bench-room-${i}`);
  await db.primary
    .insertInto('users')
    .values(userIds.map((id, i) => ({ id, username: `bench_${i}`, display_name: `bench ${i}`, password_hash: 'unused' })))
    .execute();
  await db.primary
    .insertInto('rooms')
    .values(roomIds.map((id, i) => ({ id, name: `bench ${i}`, type: 'public', created_by: userIds[i % users]! })))
    .execute();
  const members = userIds.map((userId, i) => ({ userId, roomId: roomIds[i % rooms]! }));
  await db.primary
    .insertInto('room_members')
    .values(members.map((m) => ({ room_id: m.roomId, user_id: m.userId, role: 'member' })))
    .execute();
  return members;
}
