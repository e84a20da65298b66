import { createTestDatabase } from '@chat/testkit';
import { startBenchNode } from '../bench-node';
import { connectAll, createPopulation } from '../chat-population';
import type { Cleanups } from '../cleanups';
import { runClosedLoop } from '../closed-loop';
import { openMessageCounter } from '../message-count';
import { readHistogram, type HistogramSnapshot } from '../prometheus-text';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { MeasuredRow } from './measured-row';

export interface EndToEndOptions {
  mode: string;
  primaryUrl: string;
  /** Extra node environment, e.g. GROUP_COMMIT_MAX_BATCH. */
  env: Record<string, string>;
  users: number;
  rooms: number;
  /** Sends each client keeps in flight. */
  outstanding: number;
  contentBytes: number;
  warmupMs: number;
  durationMs: number;
}

/**
 * Real clients, a real node, a fresh database: every client keeps `outstanding` message:send in flight
 * through the SDK. An ack comes only after COMMIT, so acknowledged messages per second is persisted
 * messages per second; the row count of `messages` over the same window cross-checks it.
 */
export async function measureEndToEnd(opts: EndToEndOptions, cleanups: Cleanups, log: (m: string) => void): Promise<MeasuredRow> {
  const database = await createTestDatabase({ primaryUrl: opts.primaryUrl });
  const dropDatabase = cleanups.add(`drop ${database.name}`, () => database.drop());
  const node = await startBenchNode(database.url, opts.env);
  const closeNode = cleanups.add('close node', () => node.close());
  const counter = await openMessageCounter(database.url, log);
  const closeCounter = cleanups.add('close counter', () => counter.close());

  log(`${opts.mode}: ${opts.users} users in ${opts.rooms} rooms on ${node.url}`);
  const population = await createPopulation(node.url, opts.users, opts.rooms);
  const sockets = await connectAll(node.url, population.users);
  const closeSockets = cleanups.add('close sockets', async () => sockets.forEach((s) => s.close()));
  const content = 'x'.repeat(opts.contentBytes);

  let batchesAtStart: HistogramSnapshot | undefined;
  let batchesAtEnd: HistogramSnapshot | undefined;
  let rowsAtStart = 0;
  let rowsAtEnd = 0;
  let loopAtStart: EventLoopUtilization | undefined;
  let loopBusy = Number.NaN;
  log(`${opts.mode}: ${opts.users * opts.outstanding} sends in flight, ${opts.warmupMs} ms warm-up + ${opts.durationMs} ms`);
  const loop = await runClosedLoop({
    lanes: opts.users * opts.outstanding,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    operation: async (lane) => {
      const client = Math.floor(lane / opts.outstanding);
      await sockets[client]!.send(population.users[client]!.roomId, content).ack;
      return 1;
    },
    onWindowStart: async () => {
      loopAtStart = performance.eventLoopUtilization();
      [batchesAtStart, rowsAtStart] = await Promise.all([readHistogram(node.url, 'chat_persist_batch_size'), counter.count()]);
    },
    onWindowEnd: async () => {
      loopBusy = performance.eventLoopUtilization(loopAtStart).utilization;
      [batchesAtEnd, rowsAtEnd] = await Promise.all([readHistogram(node.url, 'chat_persist_batch_size'), counter.count()]);
    },
  });
  const rowsTotal = await counter.count();

  const groupCommit = node.app.config.groupCommit;
  await closeSockets();
  await closeNode();
  await closeCounter();
  await dropDatabase();

  const batches = batchesAtEnd!.count - batchesAtStart!.count;
  const latency = loop.latency.summary();
  const failures: string[] = [];
  if (loop.errors > 0) failures.push(`${loop.errors} failed sends, first: ${loop.firstError}`);
  if (loop.messagesTotal !== rowsTotal) failures.push(`${loop.messagesTotal} sends acknowledged but ${rowsTotal} rows stored`);
  return {
    scenario: 'group-commit e2e',
    mode: `${opts.mode} (delay ${groupCommit.maxDelayMs} ms, max ${groupCommit.maxBatch})`,
    messagesPerSecond: loop.messagesPerSecond,
    latencyMs: { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
    meanBatch: batches > 0 ? (batchesAtEnd!.sum - batchesAtStart!.sum) / batches : undefined,
    details: {
      client: '@chat/client ChatSocket (websocket, delivered receipts off, no ack retries)',
      groupCommit,
      lanes: opts.users * opts.outstanding,
      windowSeconds: loop.windowSeconds,
      ackedInWindow: loop.messagesInWindow,
      // The database's own count over (about) the same window: it brackets the acked rate.
      rowsInWindow: rowsAtEnd - rowsAtStart,
      rowsPerSecondInWindow: (rowsAtEnd - rowsAtStart) / loop.windowSeconds,
      transactionsInWindow: batches,
      ackedTotal: loop.messagesTotal,
      rowsTotal,
      ackedEqualsRows: loop.messagesTotal === rowsTotal,
      failedSends: loop.errors,
      latencySamples: latency.count,
      latencyMaxMs: latency.max,
      // One event loop runs the node and all clients: near 1 means Node.js CPU, not PostgreSQL, set the pace.
      eventLoopUtilization: loopBusy,
    },
    failures,
  };
}
