import { startPostgres } from '@chat/testkit';
import { measureEndToEnd } from '../group-commit/end-to-end';
import { measureWritePath, type WriteMode } from '../group-commit/write-path';
import type { MeasuredRow } from '../group-commit/measured-row';
import type { FlagValues, Ratio, Scenario, ScenarioContext, ScenarioResult } from '../scenario';

interface Parameters {
  users: number;
  rooms: number;
  outstanding: number;
  warmupSeconds: number;
  durationSeconds: number;
  dbWarmupSeconds: number;
  dbDurationSeconds: number;
  dbConcurrency: number;
  dbBatch: number;
  dbPool: number;
  contentBytes: number;
  only: 'all' | 'e2e' | 'db';
}

// About 100 s in all on a 2-core box (PostgreSQL start, 2 × e2e, 3 × write path).
const FULL: Parameters = {
  users: 50,
  rooms: 10,
  outstanding: 4,
  warmupSeconds: 3,
  durationSeconds: 15,
  dbWarmupSeconds: 2,
  dbDurationSeconds: 8,
  dbConcurrency: 32,
  dbBatch: 32,
  dbPool: 20,
  contentBytes: 100,
  only: 'all',
};

// A smoke run (~12 s plus start-up): proves the path works end to end; its numbers are noisy.
const QUICK: Parameters = { ...FULL, users: 20, rooms: 4, outstanding: 2, warmupSeconds: 0.5, durationSeconds: 1.5, dbWarmupSeconds: 0.3, dbDurationSeconds: 0.7 };

const FLAG_OF: Record<Exclude<keyof Parameters, 'only'>, string> = {
  users: 'users',
  rooms: 'rooms',
  outstanding: 'outstanding',
  warmupSeconds: 'warmup',
  durationSeconds: 'duration',
  dbWarmupSeconds: 'db-warmup',
  dbDurationSeconds: 'db-duration',
  dbConcurrency: 'db-concurrency',
  dbBatch: 'db-batch',
  dbPool: 'db-pool',
  contentBytes: 'content-bytes',
};

function parameters(flags: FlagValues): Parameters {
  const base = flags.quick === true ? QUICK : FULL;
  const out: Parameters = { ...base };
  for (const [key, flag] of Object.entries(FLAG_OF) as [Exclude<keyof Parameters, 'only'>, string][]) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be a positive number, got "${String(raw)}"`);
    out[key] = value;
  }
  if (flags.only !== undefined) {
    if (flags.only !== 'all' && flags.only !== 'e2e' && flags.only !== 'db') throw new Error('--only must be all, e2e or db');
    out.only = flags.only;
  }
  if (out.users < out.rooms) throw new Error('--users must be at least --rooms (every room needs an owner)');
  return out;
}

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  const p = parameters(flags);
  log('starting PostgreSQL');
  const postgres = await startPostgres();
  cleanups.add('stop PostgreSQL', () => postgres.stop());
  log(`PostgreSQL pid ${postgres.primaryPid} at ${postgres.primaryUrl}`);

  const rows: MeasuredRow[] = [];
  const ratios: Ratio[] = [];
  if (p.only !== 'db') {
    const common = {
      primaryUrl: postgres.primaryUrl,
      users: p.users,
      rooms: p.rooms,
      outstanding: p.outstanding,
      contentBytes: p.contentBytes,
      warmupMs: p.warmupSeconds * 1000,
      durationMs: p.durationSeconds * 1000,
    };
    const grouped = await measureEndToEnd({ ...common, mode: 'group commit', env: {} }, cleanups, log);
    // The same code path with batching turned off: every message is its own transaction.
    const single = await measureEndToEnd(
      { ...common, mode: 'one per tx', env: { GROUP_COMMIT_MAX_BATCH: '1', GROUP_COMMIT_MAX_DELAY_MS: '0' } },
      cleanups,
      log,
    );
    rows.push(grouped, single);
    ratios.push({ label: 'group commit vs one insert per message', value: grouped.messagesPerSecond / single.messagesPerSecond, goal: { value: 5 } });
  }
  if (p.only !== 'e2e') {
    const byMode = new Map<WriteMode, MeasuredRow>();
    for (const mode of ['batched', 'per-message', 'bare-insert'] as const) {
      const row = await measureWritePath(
        {
          mode,
          primaryUrl: postgres.primaryUrl,
          users: p.users,
          rooms: p.rooms,
          concurrency: p.dbConcurrency,
          batch: p.dbBatch,
          poolMax: p.dbPool,
          contentBytes: p.contentBytes,
          warmupMs: p.dbWarmupSeconds * 1000,
          durationMs: p.dbDurationSeconds * 1000,
        },
        cleanups,
        log,
      );
      byMode.set(mode, row);
      rows.push(row);
    }
    const rate = (m: WriteMode) => byMode.get(m)!.messagesPerSecond;
    ratios.push(
      { label: 'write path: batched vs one group-commit transaction per message', value: rate('batched') / rate('per-message') },
      { label: 'write path: batched vs bare autocommit INSERT per message', value: rate('batched') / rate('bare-insert') },
    );
  }

  const failures = rows.flatMap((r) => r.failures.map((f) => `${r.scenario} ${r.mode}: ${f}`));
  return {
    rows: rows.map(({ failures: _failures, ...row }) => row),
    ratios,
    failures,
    parameters: { ...p, quick: flags.quick === true },
    notes: [
      'msgs/s: messages acknowledged (e2e) or committed (db) per second inside the measured window, after warm-up.',
      'latency: e2e = client send → ack of message:send (ack follows COMMIT); db = start of the transaction/statement → its commit, per message, including waiting for a pool connection.',
      'mean batch: e2e = messages per transaction from the node\'s chat_persist_batch_size histogram over the window; db = messages per transaction by construction.',
      'e2e clients and the node share one Node.js process (one event loop) and the cores with PostgreSQL; details.eventLoopUtilization in the JSON shows how busy that loop was.',
    ],
  };
}

export const groupCommitScenario: Scenario = {
  name: 'group-commit',
  summary: 'messages persisted/s with group commit vs one message per transaction, and send→ack latency',
  usage: [
    '--quick                smoke run, ~12 s (20 users, 1.5 s e2e and 0.7 s db windows)',
    `--users <${FULL.users}> --rooms <${FULL.rooms}> --outstanding <${FULL.outstanding}>   e2e population and sends in flight per client`,
    `--warmup <${FULL.warmupSeconds}> --duration <${FULL.durationSeconds}>   e2e seconds, per mode`,
    `--db-warmup <${FULL.dbWarmupSeconds}> --db-duration <${FULL.dbDurationSeconds}>   write-path seconds, per mode`,
    `--db-concurrency <${FULL.dbConcurrency}> --db-batch <${FULL.dbBatch}> --db-pool <${FULL.dbPool}>   write-path messages in flight, per transaction, pool size`,
    `--content-bytes <${FULL.contentBytes}>   message size`,
    '--only <all|e2e|db>',
  ],
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    ...Object.fromEntries(Object.values(FLAG_OF).map((flag) => [flag, { type: 'string' as const }])),
  },
  run,
};
