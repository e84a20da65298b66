import { parseSamples, type Sample } from '../prometheus-text';
import type { LoadTarget } from './load-target';

/** The stages of `chat_send_stage_seconds` (apps/server/src/features/messages/send-stages.ts), in path order. */
const STAGES = ['validate', 'access', 'moderation', 'rate_limit', 'queue_wait', 'commit', 'emit'] as const;

type Totals = Record<string, { sum: number; count: number }>;

/** The histogram bounds (seconds) the tail row reports: the share of sends that spent longer in a stage. */
const TAIL_BOUNDS = ['0.05', '0.1'] as const;
type Tail = Record<string, Record<(typeof TAIL_BOUNDS)[number], number>>;

/** `name_sum` / `name_count` per value of `label`, summed over every other label (node). */
function byLabel(samples: Sample[], name: string, label: string): Totals {
  const out: Totals = {};
  for (const s of samples) {
    const part = s.name === `${name}_sum` ? 'sum' : s.name === `${name}_count` ? 'count' : undefined;
    const value = s.labels[label];
    if (part === undefined || value === undefined) continue;
    (out[value] ??= { sum: 0, count: 0 })[part] += s.value;
  }
  return out;
}

function isTailBound(le: string | undefined): le is (typeof TAIL_BOUNDS)[number] {
  return (TAIL_BOUNDS as readonly (string | undefined)[]).includes(le);
}

/**
 * `name_bucket` at each of TAIL_BOUNDS per value of `label` (or all under `key`), summed over every other
 * label (node).
 */
function bucketsByLabel(samples: Sample[], name: string, label: string, into: Tail, key?: string): void {
  for (const s of samples) {
    const le = s.labels.le;
    const value = key ?? s.labels[label];
    if (s.name !== `${name}_bucket` || value === undefined || !isTailBound(le)) continue;
    (into[value] ??= { '0.05': 0, '0.1': 0 })[le] += s.value;
  }
}

async function scrape(target: LoadTarget): Promise<{ totals: Totals; within: Tail }> {
  const nodes = target.cluster?.nodes ?? [];
  return sendTotals(await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/metrics`)).text())));
}

/**
 * From the nodes' /metrics texts: sum and count per stage (and `ack`, `batch`), and per stage (and `ack`) the
 * sends within 50 and 100 ms, over all nodes.
 */
export function sendTotals(texts: string[]): { totals: Totals; within: Tail } {
  const totals: Totals = {};
  const within: Tail = {};
  for (const text of texts) {
    const samples = parseSamples(text);
    bucketsByLabel(samples, 'chat_send_stage_seconds', 'stage', within);
    bucketsByLabel(samples, 'chat_send_ack_seconds', 'node', within, 'ack');
    const stages = byLabel(samples, 'chat_send_stage_seconds', 'stage');
    const ack = byLabel(samples, 'chat_send_ack_seconds', 'node');
    const batch = byLabel(samples, 'chat_persist_batch_size', 'node');
    const none = { sum: 0, count: 0 };
    for (const [k, v] of Object.entries({ ...stages, ack: Object.values(ack)[0] ?? none, batch: Object.values(batch)[0] ?? none })) {
      const t = (totals[k] ??= { sum: 0, count: 0 });
      t.sum += v.sum;
      t.count += v.count;
    }
  }
  return { totals, within };
}

export interface SendBudget {
  /** Mean milliseconds per send in each stage, over the nodes, between the two scrapes. */
  stages: Record<string, number>;
  /** Per stage (and `ack`, the whole handler), the share of sends (0–1) over 50 ms and over 100 ms in it: where the tail is. */
  over: Record<string, { over50ms: number; over100ms: number }>;
  /** Mean ms from receiving `message:send` to the handler's answer (chat_send_ack_seconds). */
  handlerMs: number;
  /** Sends counted. */
  sends: number;
  /** Group-commit transactions in the same interval, and their mean size in messages. */
  batches: number;
  meanBatch: number;
}

/**
 * The nodes' own split of a send's time (the latency budget): scrape every node's /metrics before and after
 * a measurement and take the mean of each stage over the sends in between. Only for a cluster this run
 * started with our nodes (the ceiling has no stages).
 */
export async function sendBudgetAround<T>(target: LoadTarget, fn: () => Promise<T>): Promise<{ result: T; budget: SendBudget | undefined }> {
  if (target.kind !== 'chat' || !target.cluster) return { result: await fn(), budget: undefined };
  const { totals: before, within: withinBefore } = await scrape(target);
  const result = await fn();
  const { totals: after, within: withinAfter } = await scrape(target);
  const share = (k: string, bound: (typeof TAIL_BOUNDS)[number]) => {
    const count = (after[k]?.count ?? 0) - (before[k]?.count ?? 0);
    const inside = (withinAfter[k]?.[bound] ?? 0) - (withinBefore[k]?.[bound] ?? 0);
    return count > 0 ? Math.round((1 - inside / count) * 1e4) / 1e4 : 0;
  };
  const mean = (k: string) => {
    const count = (after[k]?.count ?? 0) - (before[k]?.count ?? 0);
    return count > 0 ? Math.round((((after[k]?.sum ?? 0) - (before[k]?.sum ?? 0)) / count) * 1e6) / 1e3 : 0;
  };
  const sends = (after.ack?.count ?? 0) - (before.ack?.count ?? 0);
  const batches = (after.batch?.count ?? 0) - (before.batch?.count ?? 0);
  const batched = (after.batch?.sum ?? 0) - (before.batch?.sum ?? 0);
  return {
    result,
    budget: {
      stages: Object.fromEntries(STAGES.map((s) => [s, mean(s)])),
      over: Object.fromEntries([...STAGES, 'ack'].map((s) => [s, { over50ms: share(s, '0.05'), over100ms: share(s, '0.1') }])),
      handlerMs: mean('ack'),
      sends,
      batches,
      meanBatch: batches > 0 ? Math.round((batched / batches) * 100) / 100 : 0,
    },
  };
}

export function budgetTable(budget: SendBudget): { title: string; columns: string[]; rows: (string | number)[][] } {
  const staged = Object.values(budget.stages).reduce((a, b) => a + b, 0);
  return {
    title: `latency budget: mean ms of one message:send on the node, by stage (${budget.sends} sends in ${budget.batches} group commits of ${budget.meanBatch} on average, warm-up included); second row: % of sends over 50 / 100 ms in the stage`,
    columns: [...STAGES, 'handler total', 'unstaged (awaits resuming, dispatch)'],
    rows: [
      [...STAGES.map((s) => budget.stages[s] ?? 0), budget.handlerMs, Math.round((budget.handlerMs + (budget.stages.validate ?? 0) - staged) * 1000) / 1000],
      // The tail: which stage the slow sends were slow in (compare with the deliveries' share over 100 ms).
      [...[...STAGES, 'ack'].map((s) => `${pct(budget.over[s]?.over50ms)} / ${pct(budget.over[s]?.over100ms)}`), ''],
    ],
  };
}

function pct(share: number | undefined): string {
  return `${Math.round((share ?? 0) * 1000) / 10}`;
}
