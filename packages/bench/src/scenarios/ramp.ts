import path from 'node:path';
import pLimit from 'p-limit';
import { AGAINST_OPTION, AGAINST_USAGE, cpuMsPerMessage, targetsOf } from '../load/against';
import { ChatLoad, type Measurement } from '../load/chat-load';
import { optionsFor, readNumbers, RECEIPT_OPTIONS, RECEIPT_USAGE, receiptWindowOf, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { openTarget, type TargetKind } from '../load/load-target';
import { duplicates, LATENCY_COLUMNS, LATENCY_NOTES, latencyRow, slowSlotsLine } from '../load/measurement-table';
import type { Ratio, Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { ratio } from '../stats';
import { CHAT_LOAD_FLAGS } from './fanout';

/**
 * Sends a second per user at most: the server allows 10 (MESSAGES_PER_SECOND) and the driver spreads sends
 * round-robin, evenly, so 8 stays under it in every second. At 1,000 users that lets the ramp reach 6,400/s,
 * above what the 1-process ceiling carries on this machine: with 5 (before 2026-12-05) it stopped at 3,200,
 * which the ceiling met, so its highest rate (and every ratio to it) was only a bound.
 */
const SENDS_PER_USER_MAX = 8;

const FLAGS = [
  ...CHAT_LOAD_FLAGS.filter((f) => f.key !== 'users' && f.key !== 'duration' && f.key !== 'warmup' && f.key !== 'nodes'),
  { key: 'users', flag: 'users', full: 1000, quick: 60, integer: true, min: 2, help: `users, one socket each (caps the rate at ${SENDS_PER_USER_MAX}/s per user)` },
  { key: 'warmup', flag: 'warmup', full: 3, quick: 1, min: 0, help: 'seconds of sending before each step\'s window' },
  { key: 'prime', flag: 'prime', full: 10, quick: 0, min: 0, help: 'seconds of sending at the first rate before the first step, not measured (a cold cluster fails its first step)' },
  { key: 'duration', flag: 'duration', full: 10, quick: 4, help: 'measured seconds per step' },
  { key: 'start', flag: 'start', full: 50, quick: 25, help: 'first rate (sends/s); doubles every step until one fails' },
  { key: 'maxSteps', flag: 'max-steps', full: 10, quick: 3, integer: true, min: 1, help: 'doubling steps at most' },
  { key: 'refine', flag: 'refine', full: 2, quick: 0, integer: true, min: 0, help: 'bisection steps between the last rate met and the first missed' },
  { key: 'tries', flag: 'tries', full: 2, quick: 1, integer: true, min: 1, help: 'tries of a rate before it counts as missed (a lone WAL-flush stall of this disk can fail a 10 s step)' },
  { key: 'p99Ms', flag: 'p99-ms', full: 100, quick: 100, help: 'the delivery p99 a rate must stay under' },
  { key: 'interleave', flag: 'interleave', full: 1, quick: 1, integer: true, min: 0, help: '1: a node count\'s targets take turns, step by step (both clusters up); 0: one target\'s whole ramp, then the next\'s' },
] as const;

/**
 * Runs one heavy phase at a time (a cluster's start and its clients' connections, a priming, a measured step, a
 * cluster's stop), first come first served. Two ramps that share it alternate: each queues its next phase
 * while the other's runs, so a step of ours and the ceiling's step at the same rate are a minute apart, not the
 * length of a whole ramp. The ratio of their highest rates is what a ramp is for, and this machine's speed
 * drifts by 2× over ten minutes (docs/performance.md, "How to measure").
 */
type Turns = <T>(phase: () => Promise<T>) => Promise<T>;

export interface Step {
  m: Measurement;
  ok: boolean;
  why: string;
}

export interface RampRun {
  kind: TargetKind;
  /**
   * `--receipt-share`'s second cluster of ours: the same nodes with clients that send no delivery receipts, ramped
   * step by step in turn with the first, so that the share (rate with receipts / without) is a ratio from one run.
   */
  withoutReceipts?: true;
  nodes: number;
  describe: string;
  steps: Step[];
  best: Step | undefined;
  stoppedBy: string;
  /** No step was missed: the highest rate is only known from below. */
  unbounded: boolean;
}

/** Why a step does not meet the bar, or '' if it does. */
function verdict(m: Measurement, p99Ms: number): string {
  const reasons: string[] = [];
  if (!(m.delivery.p99 <= p99Ms)) reasons.push(`delivery p99 ${m.delivery.p99} ms > ${p99Ms}`);
  if (m.verify.lost > 0) reasons.push(`${m.verify.lost} lost`);
  if (duplicates(m) > 0) reasons.push(`${duplicates(m)} duplicates`);
  if (m.counters.failed + m.counters.unsettled > 0) reasons.push(`${m.counters.failed + m.counters.unsettled} sends failed`);
  // Sends the driver could not start mean the offered rate was not really offered.
  if (m.counters.skipped > 0) reasons.push(`${m.counters.skipped} sends skipped (overload)`);
  return reasons.join(', ');
}

function parseNodes(raw: unknown, quick: boolean): number[] {
  const text = typeof raw === 'string' ? raw : quick ? '2' : '1,4';
  const list = text.split(',').map((n) => Number(n.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--nodes must be node counts like 1,4, got "${text}"`);
  return list;
}

/** A cluster a ramp drives: a target, and whether it is `--receipt-share`'s cluster without receipts. */
interface RampTarget {
  kind: TargetKind;
  withoutReceipts?: true;
}

/** How a run is named in the log, its table and its notes. */
export function runLabel(r: { kind: TargetKind; withoutReceipts?: true }): string {
  return r.withoutReceipts ? `${r.kind} without receipts` : r.kind;
}

/** The clusters of one node count: every `--against` target, and with `--receipt-share` ours again without receipts. */
export function rampTargets(flags: ScenarioContext['flags']): RampTarget[] {
  const targets: RampTarget[] = targetsOf(flags).map((kind) => ({ kind }));
  if (flags['receipt-share'] !== true) return targets;
  if (receiptWindowOf(flags) === 0) throw new Error('--receipt-share compares with and without receipts: it excludes --no-receipts');
  if (!targets.some((t) => t.kind === 'chat')) throw new Error('--receipt-share measures our nodes: it needs --against chat or both');
  return [...targets, { kind: 'chat', withoutReceipts: true }];
}

async function rampOn({ kind, withoutReceipts }: RampTarget, nodes: number, p: ReturnType<typeof readNumbers<(typeof FLAGS)[number]['key']>>, ctx: ScenarioContext, turn: Turns): Promise<RampRun> {
  const { flags, cleanups, log } = ctx;
  const label = runLabel({ kind, ...(withoutReceipts ? { withoutReceipts } : {}) });
  const { target, load } = await turn(async () => {
    const targetOptions = targetFlags(flags);
    // Two clusters of ours in one run must not write their profiles into one directory.
    if (withoutReceipts) for (const key of ['profileDir', 'heapProfileDir', 'driverProfileDir'] as const) if (targetOptions[key]) targetOptions[key] = path.join(targetOptions[key], 'without-receipts');
    const opened = await openTarget({ kind, nodes, ...targetOptions, cleanups, log });
    const prepared = await ChatLoad.prepare(
      opened,
      { users: p.users, roomSize: p.roomSize, sources: p.sources, drivers: p.drivers, socketsPerUser: 1, connectPerSecond: 0, connectTimeoutMs: 180_000, ack: { timeoutMs: 10_000, retries: 5 }, deliveredDebounceMs: withoutReceipts ? 0 : receiptWindowOf(flags) },
      cleanups,
      log,
    );
    return { target: opened, load: prepared };
  });
  const steps: Step[] = [];
  // A rate is met when one of its tries meets the bar; every try is kept in the table.
  const measure = async (rate: number): Promise<Step> => {
    let step = await measureOnce(rate);
    for (let t = 1; t < p.tries && !step.ok; t++) step = await measureOnce(rate);
    return step;
  };
  const measureOnce = async (rate: number): Promise<Step> => {
    const m = await turn(() =>
      load.measure({ rate, warmupMs: p.warmup * 1000, durationMs: p.duration * 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 }, log),
    );
    const why = verdict(m, p.p99Ms);
    const step = { m, ok: why === '', why };
    steps.push(step);
    log(`${label} ${nodes} node(s) T=${rate}/s (try ${steps.filter((s) => s.m.rate === rate).length}): delivery p99 ${m.delivery.p99} ms, lost ${m.verify.lost} → ${why === '' ? 'met' : `not met (${why})`}`);
    if (why !== '' && m.slowSlots.length > 0) log(`  slow send slots (100 ms, deliveries over 100 ms): ${slowSlotsLine(m)}`);
    return step;
  };

  // A cluster fresh from its start compiles its hot paths, fills its caches and grows its pools during its first
  // seconds of traffic: measured at once, the first step failed its first try in most 4-node runs of 2026-12-06
  // (delivery p99 115–305 ms at 200–400 sends/s, against 50–100 ms for the same rate a minute later), and a
  // first rate missed twice ended the ramp at nothing (docs/performance.md, "Receipts: three ways, one cold step").
  if (p.prime > 0) {
    const primer = await turn(() =>
      load.measure({ rate: p.start, warmupMs: p.prime * 1000, durationMs: 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 }, log),
    );
    log(`${label} ${nodes} node(s): primed with ${p.prime} s at ${p.start}/s (not measured; its last second's delivery p99 ${primer.delivery.p99} ms)`);
  }
  let stoppedBy = `${p.maxSteps} doubling steps done`;
  let lastMet: number | undefined;
  let firstMissed: number | undefined;
  for (let i = 0, rate = p.start; i < p.maxSteps; i++, rate *= 2) {
    if (rate / p.users > SENDS_PER_USER_MAX) {
      stoppedBy = `the next rate (${rate}/s) needs more than ${p.users} users at ${SENDS_PER_USER_MAX} sends/s each (--users)`;
      break;
    }
    const step = await measure(rate);
    if (!step.ok) {
      firstMissed = rate;
      stoppedBy = `T=${rate}/s: ${step.why}`;
      break;
    }
    lastMet = rate;
  }
  // Doubling finds the order of magnitude; bisection narrows the highest rate to 1/2^refine of a step.
  if (firstMissed !== undefined && lastMet !== undefined) {
    let lo = lastMet;
    let hi = firstMissed;
    for (let i = 0; i < p.refine; i++) {
      const mid = Math.round((lo + hi) / 2);
      if (mid === lo || mid === hi) break;
      if ((await measure(mid)).ok) lo = mid;
      else hi = mid;
    }
  }
  await turn(async () => {
    await load.close();
    await target.close();
  });
  const best = steps.filter((s) => s.ok).sort((a, b) => b.m.rate - a.m.rate)[0];
  return { kind, ...(withoutReceipts ? { withoutReceipts } : {}), nodes, describe: target.describe, steps, best, stoppedBy, unbounded: firstMissed === undefined };
}

/**
 * The ratios a ramp reports: per node count, our highest rate against the ceiling's; N nodes against 1; and
 * server CPU per message at the highest rate both met, ours and (as a reference) the ceiling's.
 */
export function rampRatios(runs: readonly RampRun[], nodeCounts: readonly number[]): Ratio[] {
  const find = (kind: TargetKind, nodes: number) => runs.find((r) => r.kind === kind && r.nodes === nodes && !r.withoutReceipts);
  const bestRate = (r: RampRun | undefined) => r?.best?.m.rate ?? Number.NaN;
  // A run that met every step is shown as "≥ rate".
  const shown = (r: RampRun) => `${r.unbounded ? '≥ ' : ''}${bestRate(r)}`;
  const rateRatio = (label: string, top: RampRun, bottom: RampRun, goal: number): Ratio => {
    const value = ratio(bestRate(top), bestRate(bottom));
    const text = `${label} (${shown(top)} / ${shown(bottom)} sends/s)`;
    if (top.unbounded && bottom.unbounded) return { label: `${text}, both met every step: no ratio known`, value };
    return { label: text, value, goal: { value: goal }, ...(top.unbounded ? { bound: 'lower' as const } : bottom.unbounded ? { bound: 'upper' as const } : {}) };
  };
  const ratios: Ratio[] = [];
  for (const nodes of nodeCounts) {
    const chat = find('chat', nodes);
    const ceiling = find('ceiling', nodes);
    if (chat && ceiling) ratios.push(rateRatio(`${nodes} node(s): highest rate met, chat / ceiling`, chat, ceiling, nodes === 1 ? 0.7 : 0.5));
    // Issue 8: with every receiver sending `message:delivered`, at least 70 % of the rate without.
    const withoutReceipts = runs.find((r) => r.kind === 'chat' && r.nodes === nodes && r.withoutReceipts);
    if (chat && withoutReceipts) ratios.push(rateRatio(`${nodes} node(s): highest rate met, chat with receipts / without`, chat, withoutReceipts, 0.7));
  }
  const single = find('chat', 1);
  for (const nodes of nodeCounts.filter((n) => n > 1)) {
    const multi = find('chat', nodes);
    if (!single || !multi) continue;
    ratios.push(rateRatio(`chat: highest rate met, ${nodes} nodes / 1 node`, multi, single, 1));
    // CPU per message compared at the highest rate both met, so the comparison is at equal load.
    const shared = multi.steps.filter((s) => s.ok && single.steps.some((t) => t.ok && t.m.rate === s.m.rate)).sort((a, b) => b.m.rate - a.m.rate)[0];
    const at = shared && single.steps.find((t) => t.ok && t.m.rate === shared.m.rate);
    if (shared && at) {
      ratios.push({
        label: `chat: server CPU per message at ${shared.m.rate}/s, ${nodes} nodes / 1 node (${cpuMsPerMessage(shared.m)} / ${cpuMsPerMessage(at.m)} ms)`,
        value: ratio(cpuMsPerMessage(shared.m), cpuMsPerMessage(at.m)),
        goal: { value: 1.3, direction: 'max' },
      });
      // The same comparison for bare Socket.IO at the same rate, where both ceiling runs met it: what N
      // processes cost against one on this machine without any of our work (no goal, a reference).
      const ceilingAt = (n: number) => find('ceiling', n)?.steps.find((t) => t.ok && t.m.rate === shared.m.rate);
      const [ceilingMulti, ceilingSingle] = [ceilingAt(nodes), ceilingAt(1)];
      if (ceilingMulti && ceilingSingle) {
        ratios.push({
          label: `ceiling: server CPU per message at ${shared.m.rate}/s, ${nodes} processes / 1 process (${cpuMsPerMessage(ceilingMulti.m)} / ${cpuMsPerMessage(ceilingSingle.m)} ms)`,
          value: ratio(cpuMsPerMessage(ceilingMulti.m), cpuMsPerMessage(ceilingSingle.m)),
        });
      }
    }
  }

  return ratios;
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(ctx.flags, FLAGS);
  const targets = rampTargets(ctx.flags);
  const nodeCounts = parseNodes(ctx.flags.nodes, ctx.flags.quick === true);
  const runs: RampRun[] = [];
  for (const nodes of nodeCounts) {
    if (p.interleave > 0) {
      const turn = pLimit(1);
      runs.push(...(await Promise.all(targets.map((target) => rampOn(target, nodes, p, ctx, turn)))));
    } else {
      for (const target of targets) runs.push(await rampOn(target, nodes, p, ctx, (phase) => phase()));
    }
  }

  const ratios = rampRatios(runs, nodeCounts);

  return {
    rows: [],
    tables: runs.map((r) => ({
      title: `ramp ${runLabel(r)}: ${p.users} users in rooms of ${p.roomSize}, ${r.describe}; a step passes with delivery p99 ≤ ${p.p99Ms} ms, nothing lost, duplicated, failed or skipped`,
      columns: [...LATENCY_COLUMNS, 'server CPU ms/msg', 'met'],
      rows: [...r.steps].sort((a, b) => a.m.rate - b.m.rate).map((s) => [...latencyRow(`T=${s.m.rate}/s`, s.m), cpuMsPerMessage(s.m), s.ok ? 'yes' : 'no']),
    })),
    ratios,
    parameters: { ...p, nodes: nodeCounts, targets: targets.map(runLabel), receipts: receiptWindowOf(ctx.flags) !== 0, receiptWindowMs: receiptWindowOf(ctx.flags) ?? 'SDK default' },
    notes: [
      ...runs.map((r) =>
        r.best
          ? `${runLabel(r)} ${r.nodes} node(s): highest rate meeting the bar ${r.best.m.rate} sends/s (${r.best.m.deliveriesPerSecond} deliveries/s, delivery p99 ${r.best.m.delivery.p99} ms, ack p99 ${r.best.m.ack.p99} ms); stopped: ${r.stoppedBy}`
          : `${runLabel(r)} ${r.nodes} node(s): no rate met the bar; stopped: ${r.stoppedBy}`,
      ),
      ...(p.interleave > 0 && targets.length > 1
        ? [`The targets of a node count took turns step by step (--interleave 1): all ${targets.length} clusters were up, one driven at a time; a step of each was measured in turn.`]
        : []),
      'ceiling = bare Socket.IO broadcast nodes (no auth, validation, database or limits; a Redis INCR per message for seq when N > 1) behind the same NGINX, driven by the same clients; server CPU ms/msg = CPU of nodes, PostgreSQL, Redis and NGINX per acknowledged message.',
      ...LATENCY_NOTES,
    ],
    // A step that misses the latency bar is the expected end of a ramp; losing or duplicating is not.
    failures: runs.flatMap((r) => r.steps.flatMap((s) => (s.m.verify.lost > 0 || duplicates(s.m) > 0 ? [`${runLabel(r)} ${r.nodes} node(s) T=${s.m.rate}/s: ${s.why}`] : []))),
    details: { runs: runs.map((r) => ({ kind: r.kind, receipts: !r.withoutReceipts && receiptWindowOf(ctx.flags) !== 0, nodes: r.nodes, steps: r.steps.map((s) => s.m), highestPassingRate: r.best?.m.rate ?? null, stoppedBy: r.stoppedBy })) },
  };
}

export const rampScenario: Scenario = {
  name: 'ramp',
  summary: 'doubles (then bisects) the send rate until delivery p99 > 100 ms or anything is lost, on our nodes and on the ceiling; highest rates and ratios',
  usage: [
    ...TARGET_USAGE,
    AGAINST_USAGE,
    '--nodes <1,4; quick 2>   node counts to ramp (each against every target)',
    ...RECEIPT_USAGE,
    '--receipt-share          also ramps our nodes with clients that send no receipts, step by step in turn: the rate with receipts / without, from one run',
    ...usageFor(FLAGS),
  ],
  options: optionsFor(FLAGS, { ...AGAINST_OPTION, nodes: { type: 'string' }, ...RECEIPT_OPTIONS, 'receipt-share': { type: 'boolean' } }),
  run,
};
