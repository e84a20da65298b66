import { ChatLoad, type Measurement } from '../load/chat-load';
import { optionsFor, readNumbers, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { openTarget } from '../load/load-target';
import { duplicates, LATENCY_COLUMNS, LATENCY_NOTES, latencyRow } from '../load/measurement-table';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { CHAT_LOAD_FLAGS } from './fanout';

const FLAGS = [
  ...CHAT_LOAD_FLAGS.filter((f) => f.key !== 'users' && f.key !== 'duration' && f.key !== 'warmup'),
  { key: 'users', flag: 'users', full: 1000, quick: 60, integer: true, min: 2, help: 'users, one socket each (caps the rate at 5/s per user)' },
  { key: 'warmup', flag: 'warmup', full: 3, quick: 1, min: 0, help: 'seconds of sending before each step\'s window' },
  { key: 'duration', flag: 'duration', full: 10, quick: 4, help: 'measured seconds per step' },
  { key: 'start', flag: 'start', full: 10, quick: 25, help: 'first rate (sends/s); doubles every step' },
  { key: 'maxSteps', flag: 'max-steps', full: 10, quick: 3, integer: true, min: 1, help: 'steps at most' },
  { key: 'p99Ms', flag: 'p99-ms', full: 100, quick: 100, help: 'the delivery p99 a rate must stay under' },
] as const;

interface Step {
  m: Measurement;
  ok: boolean;
  why: string;
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

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(flags, FLAGS);
  const target = await openTarget({ nodes: p.nodes, ...targetFlags(flags), cleanups, log });
  const load = await ChatLoad.prepare(
    target,
    { users: p.users, roomSize: p.roomSize, sources: p.sources, drivers: p.drivers, socketsPerUser: 1, connectPerSecond: 0, connectTimeoutMs: 180_000, ack: { timeoutMs: 10_000, retries: 5 } },
    cleanups,
    log,
  );

  const steps: Step[] = [];
  let stoppedBy = `${p.maxSteps} steps done`;
  for (let i = 0, rate = p.start; i < p.maxSteps; i++, rate *= 2) {
    if (rate / p.users > 5) {
      stoppedBy = `the next rate (${rate}/s) needs more than ${p.users} users at 5 sends/s each (--users)`;
      break;
    }
    const m = await load.measure(
      { rate, warmupMs: p.warmup * 1000, durationMs: p.duration * 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 },
      log,
    );
    const why = verdict(m, p.p99Ms);
    steps.push({ m, ok: why === '', why });
    log(`T=${rate}/s: delivery p99 ${m.delivery.p99} ms, lost ${m.verify.lost} → ${why === '' ? 'met' : `not met (${why})`}`);
    if (why !== '') {
      stoppedBy = `T=${rate}/s: ${why}`;
      break;
    }
  }
  const best = [...steps].reverse().find((s) => s.ok);
  return {
    rows: [],
    tables: [
      {
        title: `ramp: ${p.users} users in rooms of ${p.roomSize}, ${target.describe}; a step passes with delivery p99 ≤ ${p.p99Ms} ms, nothing lost, duplicated, failed or skipped`,
        columns: [...LATENCY_COLUMNS, 'met'],
        rows: steps.map((s) => [...latencyRow(`T=${s.m.rate}/s`, s.m), s.ok ? 'yes' : 'no']),
      },
    ],
    ratios: [],
    parameters: { ...p, target: target.describe },
    notes: [
      best
        ? `highest rate meeting the bar: ${best.m.rate} sends/s (${best.m.deliveriesPerSecond} deliveries/s, delivery p99 ${best.m.delivery.p99} ms, ack p99 ${best.m.ack.p99} ms)`
        : 'no rate met the bar',
      `stopped: ${stoppedBy}`,
      ...LATENCY_NOTES,
    ],
    // A step that misses the latency bar is the expected end of a ramp; losing or duplicating is not.
    failures: steps.flatMap((s) => (s.m.verify.lost > 0 || duplicates(s.m) > 0 ? [`T=${s.m.rate}/s: ${s.why}`] : [])),
    details: { steps: steps.map((s) => s.m), highestPassingRate: best?.m.rate ?? null, stoppedBy },
  };
}

export const rampScenario: Scenario = {
  name: 'ramp',
  summary: 'doubles the send rate until delivery p99 > 100 ms or anything is lost; prints the highest rate that met both',
  usage: [...TARGET_USAGE, ...usageFor(FLAGS)],
  options: optionsFor(FLAGS),
  run,
};
