import { ChatLoad, type Measurement } from '../load/chat-load';
import { optionsFor, readNumbers, usageFor } from '../load/load-flags';
import { openTarget } from '../load/load-target';
import { MACHINE_GROUP } from '../load/process-usage';
import { correctnessFailures, LATENCY_COLUMNS, LATENCY_NOTES, latencyRow, nodeUsage } from '../load/measurement-table';
import type { Ratio, Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { CHAT_LOAD_FLAGS } from './fanout';

const FLAGS = [
  ...CHAT_LOAD_FLAGS.filter((f) => f.key !== 'nodes' && f.key !== 'users' && f.key !== 'duration'),
  { key: 'users', flag: 'users', full: 400, quick: 60, integer: true, min: 2, help: 'users, one socket each' },
  { key: 'duration', flag: 'duration', full: 15, quick: 5, help: 'measured seconds per run' },
  { key: 'nodes', flag: 'nodes', full: 4, quick: 2, integer: true, min: 2, help: 'nodes of the multi-node runs (compared with 1 node)' },
  { key: 'rate', flag: 'rate', full: 50, quick: 50, help: 'total sends per second, the same in every run (below saturation)' },
  { key: 'repeat', flag: 'repeat', full: 2, quick: 1, integer: true, min: 1, help: 'rounds of every run, interleaved; ratios use the medians' },
] as const;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const ADAPTERS = ['sharded', 'classic'] as const;
type Adapter = (typeof ADAPTERS)[number];

interface RunResult {
  adapter: Adapter;
  nodes: number;
  m: Measurement;
}

/** CPU milliseconds of all nodes per delivered message: what one more delivery costs the cluster. */
function cpuMsPerDelivery(m: Measurement): number {
  const cpuSecondsPerSecond = nodeUsage(m).cpuPercent / 100;
  return m.deliveriesPerSecond > 0 ? Math.round(((cpuSecondsPerSecond * 1000) / m.deliveriesPerSecond) * 1000) / 1000 : Number.NaN;
}

/** CPU of every process on the box in the window (ours and other work sharing it), 200 = both cores. */
function machineCpu(m: Measurement): number {
  return m.usage[MACHINE_GROUP]?.cpuPercent ?? Number.NaN;
}

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  if (flags.url !== undefined) throw new Error('cross-node starts its own clusters (1 and N nodes, each adapter): --url does not apply');
  const p = readNumbers(flags, FLAGS);
  if (p.rate / p.users > 5) throw new Error(`--rate ${p.rate} over --users ${p.users} is above 5 sends/s per user (limit 10/s): add users`);
  const onlyAdapter = typeof flags.adapter === 'string' ? flags.adapter : undefined;
  if (onlyAdapter !== undefined && !ADAPTERS.includes(onlyAdapter as Adapter)) throw new Error('--adapter must be sharded or classic');
  const adapters = onlyAdapter ? [onlyAdapter as Adapter] : [...ADAPTERS];

  const results: RunResult[] = [];
  // Interleaved (N nodes, then 1 node, each adapter in turn, round after round) so that a change in other
  // work on a shared machine hits every configuration alike instead of one of them.
  const plan = Array.from({ length: p.repeat }, () => [p.nodes, 1].flatMap((nodes) => adapters.map((adapter) => ({ adapter, nodes })))).flat();
  for (const [i, { adapter, nodes }] of plan.entries()) {
    log(`— run ${i + 1}/${plan.length}: ${adapter} adapter, ${nodes} node(s) —`);
    const target = await openTarget({ nodes, env: { SOCKET_ADAPTER: adapter }, keepLogs: flags['keep-logs'] === true, cleanups, log });
    const load = await ChatLoad.prepare(
      target,
      { users: p.users, roomSize: p.roomSize, sources: p.sources, drivers: p.drivers, socketsPerUser: 1, connectPerSecond: 0, connectTimeoutMs: 180_000, ack: { timeoutMs: 10_000, retries: 5 } },
      cleanups,
      log,
    );
    const m = await load.measure(
      { rate: p.rate, warmupMs: p.warmup * 1000, durationMs: p.duration * 1000, contentBytes: p.contentBytes, maxOutstanding: p.maxOutstanding, settleMs: p.settle * 1000 },
      log,
    );
    results.push({ adapter, nodes, m });
    await load.close();
    await target.close();
  }

  const ratios: Ratio[] = [];
  const notes: string[] = [];
  for (const adapter of adapters) {
    const multi = results.filter((r) => r.adapter === adapter && r.nodes === p.nodes).map((r) => r.m);
    const single = results.filter((r) => r.adapter === adapter && r.nodes === 1).map((r) => r.m);
    const ratio = (a: (m: Measurement) => number, b: (m: Measurement) => number) => median(multi.map(a)) / median(single.map(b));
    ratios.push(
      { label: `${adapter}: cross-node delivery p50, ${p.nodes} nodes / 1 node`, value: ratio((m) => m.deliveryCrossNode.p50, (m) => m.delivery.p50) },
      { label: `${adapter}: cross-node delivery p99, ${p.nodes} nodes / 1 node`, value: ratio((m) => m.deliveryCrossNode.p99, (m) => m.delivery.p99) },
      { label: `${adapter}: deliveries/s, ${p.nodes} nodes / 1 node`, value: ratio((m) => m.deliveriesPerSecond, (m) => m.deliveriesPerSecond) },
      { label: `${adapter}: node CPU per delivery, ${p.nodes} nodes / 1 node`, value: ratio(cpuMsPerDelivery, cpuMsPerDelivery) },
    );
  }
  if (adapters.length === 2) {
    const at = (adapter: Adapter, f: (m: Measurement) => number) => median(results.filter((r) => r.adapter === adapter && r.nodes === p.nodes).map((r) => f(r.m)));
    ratios.push(
      { label: `${p.nodes} nodes: classic / sharded cross-node delivery p50`, value: at('classic', (m) => m.deliveryCrossNode.p50) / at('sharded', (m) => m.deliveryCrossNode.p50) },
      { label: `${p.nodes} nodes: classic / sharded cross-node delivery p99`, value: at('classic', (m) => m.deliveryCrossNode.p99) / at('sharded', (m) => m.deliveryCrossNode.p99) },
      { label: `${p.nodes} nodes: classic / sharded node CPU per delivery`, value: at('classic', cpuMsPerDelivery) / at('sharded', cpuMsPerDelivery) },
    );
  }
  for (const r of results) {
    notes.push(
      `${r.adapter} ${r.nodes} node(s): node CPU ${cpuMsPerDelivery(r.m)} ms per delivery; cross-node deliveries ${r.m.deliveryCrossNode.count}, same-node ${r.m.deliverySameNode.count}; clients per node ${JSON.stringify(r.m.nodes)}; busiest driver ${Math.round(r.m.maxDriverUtilization * 100)} %`,
    );
  }

  return {
    rows: [],
    tables: [
      {
        title: `cross-node: ${p.users} users in rooms of ${p.roomSize} at ${p.rate} sends/s; delivery latency = cross-node deliveries on ${p.nodes} nodes, all deliveries on 1 node`,
        columns: [...LATENCY_COLUMNS, 'CPU ms/deliv', 'machine CPU%'],
        rows: results.map((r) => [...latencyRow(`${r.adapter} ${r.nodes} node${r.nodes > 1 ? 's' : ''}`, r.m, r.nodes > 1 ? 'cross' : 'all'), cpuMsPerDelivery(r.m), machineCpu(r.m)]),
      },
    ],
    ratios,
    parameters: { ...p, adapters },
    notes: [...LATENCY_NOTES, ...notes],
    failures: results.flatMap((r) => correctnessFailures(`${r.adapter} ${r.nodes} node(s)`, r.m)),
    details: { runs: results },
  };
}

export const crossNodeScenario: Scenario = {
  name: 'cross-node',
  summary: 'cross-node delivery latency and deliveries/s on N nodes vs 1 node, with the sharded and the classic Redis adapter',
  usage: ['--quick                small and short: proves the path end to end; its numbers are noisy', '--adapter <sharded|classic>   only one adapter (default: both)', '--keep-logs            copy each cluster\'s logs to .bench/logs/', ...usageFor(FLAGS)],
  options: optionsFor(FLAGS, { adapter: { type: 'string' } }),
  run,
};
