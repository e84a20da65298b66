import type { LoadTarget } from './load-target';

/** The stages of `chat_send_stage_seconds` (apps/server/src/features/messages/send-stages.ts), in path order. */
const STAGES = ['validate', 'access', 'moderation', 'rate_limit', 'queue_wait', 'commit', 'emit'] as const;

type Totals = Record<string, { sum: number; count: number }>;

/** `name_sum` / `name_count` per value of `label`, summed over every other label (node), from Prometheus text. */
function byLabel(text: string, name: string, label: string): Totals {
  const out: Totals = {};
  const pattern = new RegExp(`^${name}_(sum|count)\\{([^}]*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (!m) continue;
    const value = new RegExp(`${label}="([^"]*)"`).exec(m[2]!)?.[1];
    if (value === undefined) continue;
    const t = (out[value] ??= { sum: 0, count: 0 });
    t[m[1] as 'sum' | 'count'] += Number(m[3]);
  }
  return out;
}

async function scrape(target: LoadTarget): Promise<Totals> {
  const nodes = target.cluster?.nodes ?? [];
  const texts = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/metrics`)).text()));
  const totals: Totals = {};
  for (const text of texts) {
    const stages = byLabel(text, 'chat_send_stage_seconds', 'stage');
    const ack = byLabel(text, 'chat_send_ack_seconds', 'node');
    const batch = byLabel(text, 'chat_persist_batch_size', 'node');
    const none = { sum: 0, count: 0 };
    for (const [k, v] of Object.entries({ ...stages, ack: Object.values(ack)[0] ?? none, batch: Object.values(batch)[0] ?? none })) {
      const t = (totals[k] ??= { sum: 0, count: 0 });
      t.sum += v.sum;
      t.count += v.count;
    }
  }
  return totals;
}

export interface SendBudget {
  /** Mean milliseconds per send in each stage, over the nodes, between the two scrapes. */
  stages: Record<string, number>;
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
  const before = await scrape(target);
  const result = await fn();
  const after = await scrape(target);
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
    title: `latency budget: mean ms of one message:send on the node, by stage (${budget.sends} sends in ${budget.batches} group commits of ${budget.meanBatch} on average, warm-up included)`,
    columns: [...STAGES, 'handler total', 'unstaged (awaits resuming, dispatch)'],
    rows: [[...STAGES.map((s) => budget.stages[s] ?? 0), budget.handlerMs, Math.round((budget.handlerMs + (budget.stages.validate ?? 0) - staged) * 1000) / 1000]],
  };
}
