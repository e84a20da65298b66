import { ChatLoad } from '../load/chat-load';
import { optionsFor, readNumbers, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { openTarget } from '../load/load-target';
import { correctnessFailures, LATENCY_COLUMNS, LATENCY_NOTES, latencyRow, usageTable } from '../load/measurement-table';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';

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
  const target = await openTarget({ nodes: p.nodes, ...targetFlags(flags), cleanups, log });
  const load = await ChatLoad.prepare(
    target,
    { users: p.users, roomSize: p.roomSize, sources: p.sources, drivers: p.drivers, socketsPerUser: 1, connectPerSecond: 0, connectTimeoutMs: 180_000, ack: { timeoutMs: 10_000, retries: 5 }, receipts: flags['no-receipts'] !== true },
    cleanups,
    log,
  );
  const m = await load.measure(
    { rate: p.rate, warmupMs: p.warmup * 1000, durationMs: p.duration * 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 },
    log,
  );
  return {
    rows: [],
    tables: [
      { title: `fanout: ${p.users} users in rooms of ${p.roomSize}, ${target.describe}`, columns: LATENCY_COLUMNS, rows: [latencyRow(`T=${p.rate}/s`, m)] },
      usageTable('resources during the window', m),
    ],
    ratios: [],
    parameters: { ...p, receipts: flags['no-receipts'] !== true, target: target.describe },
    notes: [
      ...LATENCY_NOTES,
      `clients per node: ${JSON.stringify(m.nodes)}; busiest load driver event loop ${Math.round(m.maxDriverUtilization * 100)} % busy.`,
      `missing before the final sync: ${m.verify.missingBeforeFinalSync}; messages received through sync: ${m.counters.syncedMessages}; resent after a delivered ack: ${m.counters.resentAfterAck}.`,
    ],
    failures: correctnessFailures('fanout', m),
    details: { measurement: m },
  };
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  summary: 'U users in rooms of S at T sends/s for D s: ack and delivery latency, deliveries/s, lost, duplicates, node CPU and RSS',
  usage: [...TARGET_USAGE, '--no-receipts          clients send no delivery receipts (the SDK sends one per room every 500 ms, each fanned out as `receipt`)', ...usageFor(FANOUT_FLAGS)],
  options: optionsFor(FANOUT_FLAGS, { 'no-receipts': { type: 'boolean' } }),
  run,
};
