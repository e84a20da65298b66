import type { ResultTable } from '../scenario';
import type { Measurement } from './chat-load';
import { MACHINE_GROUP } from './process-usage';

const f1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : Number.NaN);

/** Summed CPU (100 = one core) and RSS of every node group in a measurement. */
export function nodeUsage(m: Measurement): { cpuPercent: number; rssMiB: number } {
  const nodes = Object.entries(m.usage).filter(([name]) => name.startsWith('node-'));
  return {
    cpuPercent: f1(nodes.reduce((s, [, u]) => s + u.cpuPercent, 0)),
    rssMiB: nodes.reduce((s, [, u]) => s + u.rssMiB, 0),
  };
}

/** Duplicates of every kind: stored twice, delivered twice on the wire, released twice by the SDK. */
export function duplicates(m: Measurement): number {
  return (m.storedDuplicates ?? 0) + m.counters.duplicateLive + m.counters.duplicateReleased;
}

export const LATENCY_COLUMNS = [
  'label',
  'sent/s',
  'acked/s',
  'deliv/s',
  'ack p50',
  'ack p95',
  'ack p99',
  'deliv p50',
  'deliv p95',
  'deliv p99',
  'lost',
  'dup',
  'failed',
  'skipped',
  'nodes CPU%',
  'nodes MiB',
];

/** One row per measurement: throughput, ack and delivery latency (ms), correctness counts, node usage. */
export function latencyRow(label: string, m: Measurement, delivery: 'all' | 'cross' = 'all'): (string | number)[] {
  const d = delivery === 'cross' ? m.deliveryCrossNode : m.delivery;
  const usage = nodeUsage(m);
  return [
    label,
    m.rate,
    m.ackedPerSecond,
    m.deliveriesPerSecond,
    m.ack.p50,
    m.ack.p95,
    m.ack.p99,
    d.p50,
    d.p95,
    d.p99,
    m.verify.lost,
    duplicates(m),
    m.counters.failed + m.counters.unsettled,
    m.counters.skipped,
    usage.cpuPercent,
    usage.rssMiB,
  ];
}

/** CPU and memory of every watched process group during one measurement. */
export function usageTable(title: string, m: Measurement): ResultTable {
  return {
    title,
    columns: ['process', 'CPU % (100 = 1 core)', 'RSS MiB', 'peak RSS MiB'],
    rows: usageRows(m.usage),
  };
}

/** The window's 100 ms send slots with deliveries over 100 ms (the worst few, in time order): where a tail came from. */
export function slowSlotsTable(title: string, m: Measurement): ResultTable {
  return {
    title,
    columns: ['sent at s', 'deliveries', '> 100 ms', 'max ms'],
    rows: m.slowSlots.map((s) => [`+${s.atSeconds.toFixed(1)}`, s.deliveries, s.slow, s.maxMs]),
  };
}

/** One line of the same: `+3.2 s 412/2520 max 245 ms; …`. */
export function slowSlotsLine(m: Measurement): string {
  return m.slowSlots.map((s) => `+${s.atSeconds.toFixed(1)} s ${s.slow}/${s.deliveries} max ${s.maxMs} ms`).join('; ');
}

/** Rows of a usage table; the whole machine has a CPU figure but no memory of its own. */
export function usageRows(usage: Measurement['usage']): (string | number)[][] {
  return Object.entries(usage).map(([name, u]) => (name === MACHINE_GROUP ? [name, u.cpuPercent, '-', '-'] : [name, u.cpuPercent, u.rssMiB, u.peakRssMiB]));
}

/** Failures a measurement proves: lost or duplicated acknowledged messages, failed sends. */
export function correctnessFailures(label: string, m: Measurement): string[] {
  const out: string[] = [];
  if (m.verify.lost > 0) out.push(`${label}: ${m.verify.lost} acknowledged deliveries lost (${m.verify.examples.join('; ')})`);
  if ((m.storedDuplicates ?? 0) > 0) out.push(`${label}: ${m.storedDuplicates} messages stored twice`);
  if (m.counters.duplicateReleased > 0) out.push(`${label}: the SDK released ${m.counters.duplicateReleased} messages twice`);
  if (m.counters.failed > 0) out.push(`${label}: ${m.counters.failed} sends failed (${JSON.stringify(m.ackErrors)})`);
  if (m.counters.unsettled > 0) out.push(`${label}: ${m.counters.unsettled} sends still unanswered at the deadline`);
  return out;
}

export const LATENCY_NOTES = [
  'latencies in ms. ack = send → ack of message:send (after COMMIT); deliv = send → first live message:new at another member (clocks: one host, performance.timeOrigin + now()).',
  'sent/s is the offered open-loop rate; acked/s and deliv/s count messages sent inside the window that were acknowledged / delivered live to other members.',
  'lost = acknowledged messages some member never received, live or through sync (after a settle time and a final sync); dup = stored twice + delivered twice on the wire + released twice by the SDK.',
  'failed = sends that never got an ok ack (after the SDK retries) or were unanswered at the deadline; skipped = sends not started because the client had too many in flight (overload).',
  'nodes CPU% = sum over node processes (100 = one core) during the window, from /proc/<pid>/stat; MiB = their summed RSS at the end of the window. "whole machine" is every process on the box (/proc/stat): what exceeds the listed groups belongs to other work sharing the machine.',
];
