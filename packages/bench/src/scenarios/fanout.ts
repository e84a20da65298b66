import { AGAINST_OPTION, AGAINST_USAGE, cpuMsPerMessage, TARGET_LABEL, targetsOf } from '../load/against';
import { ChatLoad, type Measurement } from '../load/chat-load';
import { optionsFor, readNumbers, RECEIPT_OPTIONS, RECEIPT_USAGE, receiptWindowOf, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { openTarget, type TargetKind } from '../load/load-target';
import { ratio } from '../stats';
import { correctnessFailures, LATENCY_COLUMNS, LATENCY_NOTES, latencyRow, slowSlotsTable, usageTable } from '../load/measurement-table';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { budgetTable, sendBudgetAround, type SendBudget } from '../load/send-budget';

export const CHAT_LOAD_FLAGS = [
  { key: 'nodes', flag: 'nodes', full: 4, quick: 2, integer: true, min: 1, help: 'node processes behind NGINX' },
  { key: 'users', flag: 'users', full: 1000, quick: 60, integer: true, min: 2, help: 'users, one socket each' },
  { key: 'roomSize', flag: 'room-size', full: 10, quick: 5, integer: true, min: 2, help: 'members per room' },
  { key: 'sources', flag: 'sources', full: 64, quick: 8, integer: true, min: 1, help: 'client source addresses 127.0.K.1' },
  { key: 'drivers', flag: 'drivers', full: 2, quick: 2, integer: true, min: 1, help: 'load driver processes' },
  { key: 'warmup', flag: 'warmup', full: 5, quick: 2, min: 0, help: 'seconds of sending before the window' },
  { key: 'duration', flag: 'duration', full: 20, quick: 5, help: 'measured seconds' },
  { key: 'contentBytes', flag: 'content-bytes', full: 100, quick: 100, integer: true, min: 20, help: 'message size' },
  { key: 'maxOutstanding', flag: 'max-outstanding', full: 4, quick: 4, integer: true, min: 1, help: 'unanswered sends per client before it is passed over' },
  { key: 'settle', flag: 'settle', full: 10, quick: 5, min: 0, help: 'seconds deliveries may take after the last ack' },
] as const;

const FANOUT_FLAGS = [...CHAT_LOAD_FLAGS, { key: 'rate', flag: 'rate', full: 100, quick: 50, help: 'total sends per second (T)' }] as const;

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(flags, FANOUT_FLAGS);
  // The server's per-user budget is 10 messages/s: above it acks turn into RATE_LIMITED retries.
  if (p.rate / p.users > 5) throw new Error(`--rate ${p.rate} over --users ${p.users} is above 5 sends/s per user (limit 10/s): add users`);
  const receiptWindowMs = receiptWindowOf(flags);
  const receipts = receiptWindowMs !== 0;
  const runs: { kind: TargetKind; describe: string; m: Measurement; budget: SendBudget | undefined }[] = [];
  for (const kind of targetsOf(flags)) {
    const target = await openTarget({ kind, nodes: p.nodes, ...targetFlags(flags), cleanups, log });
    const load = await ChatLoad.prepare(
      target,
      { users: p.users, roomSize: p.roomSize, sources: p.sources, drivers: p.drivers, socketsPerUser: 1, connectPerSecond: 0, connectTimeoutMs: 180_000, ack: { timeoutMs: 10_000, retries: 5 }, deliveredDebounceMs: receiptWindowMs },
      cleanups,
      log,
    );
    const { result: m, budget } = await sendBudgetAround(target, () =>
      load.measure(
        { rate: p.rate, warmupMs: p.warmup * 1000, durationMs: p.duration * 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 },
        log,
      ),
    );
    runs.push({ kind, describe: target.describe, m, budget });
    await load.close();
    await target.close();
  }
  const chat = runs.find((r) => r.kind === 'chat');
  const ceiling = runs.find((r) => r.kind === 'ceiling');
  return {
    rows: [],
    tables: [
      {
        title: `fanout: ${p.users} users in rooms of ${p.roomSize} at T=${p.rate}/s on ${p.nodes} node(s) behind NGINX${receipts ? (receiptWindowMs === undefined ? '' : `, receipts every ${receiptWindowMs} ms`) : ', no receipts'}`,
        columns: [...LATENCY_COLUMNS, 'server CPU ms/msg'],
        rows: runs.map((r) => [...latencyRow(TARGET_LABEL[r.kind], r.m), cpuMsPerMessage(r.m)]),
      },
      ...runs.flatMap((r) => (r.budget ? [budgetTable(r.budget)] : [])),
      ...runs.map((r) => usageTable(`resources during the window: ${r.describe}`, r.m)),
      ...runs.flatMap((r) => (r.m.slowSlots.length > 0 ? [slowSlotsTable(`${r.kind}: 100 ms send slots with deliveries over 100 ms (the worst ${r.m.slowSlots.length}, in time order)`, r.m)] : [])),
    ],
    ratios:
      chat && ceiling
        ? [
            { label: 'delivered/s, chat / ceiling', value: ratio(chat.m.deliveriesPerSecond, ceiling.m.deliveriesPerSecond) },
            { label: 'server CPU per message (nodes, PostgreSQL, Redis, NGINX), chat / ceiling', value: ratio(cpuMsPerMessage(chat.m), cpuMsPerMessage(ceiling.m)) },
            { label: 'delivery p50, chat / ceiling', value: ratio(chat.m.delivery.p50, ceiling.m.delivery.p50) },
            { label: 'delivery p99, chat / ceiling', value: ratio(chat.m.delivery.p99, ceiling.m.delivery.p99) },
          ]
        : [],
    parameters: { ...p, receipts, receiptWindowMs: receiptWindowMs ?? 'SDK default', targets: runs.map((r) => r.kind) },
    notes: [
      ...LATENCY_NOTES,
      'ceiling = bare Socket.IO broadcast nodes (no auth, validation, database or limits; a Redis INCR per message for seq when N > 1) behind the same NGINX, driven by the same clients; server CPU ms/msg = CPU of nodes, PostgreSQL, Redis and NGINX per acknowledged message.',
      ...runs.map(
        (r) =>
          `${r.kind}: clients per node ${JSON.stringify(r.m.nodes)}; busiest load driver event loop ${Math.round(r.m.maxDriverUtilization * 100)} % busy; missing before the final sync ${r.m.verify.missingBeforeFinalSync}; received through sync ${r.m.counters.syncedMessages}; resent after a delivered ack ${r.m.counters.resentAfterAck}.`,
      ),
    ],
    failures: runs.flatMap((r) => correctnessFailures(`fanout ${r.kind}`, r.m)),
    details: { runs },
  };
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  summary: 'U users in rooms of S at T sends/s for D s, on our nodes and on the bare Socket.IO ceiling: latency, deliveries/s, lost, duplicates, CPU per message, ratios',
  usage: [...TARGET_USAGE, AGAINST_USAGE, ...RECEIPT_USAGE, ...usageFor(FANOUT_FLAGS)],
  options: optionsFor(FANOUT_FLAGS, { ...RECEIPT_OPTIONS, ...AGAINST_OPTION }),
  run,
};
