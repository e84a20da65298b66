import { ChatLoad, roundPercentiles } from '../load/chat-load';
import { optionsFor, readNumbers, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { openTarget, type LoadTarget } from '../load/load-target';
import { MACHINE_GROUP, type GroupUsage } from '../load/process-usage';
import { sampleSum } from '../prometheus-text';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';

const FLAGS = [
  { key: 'nodes', flag: 'nodes', full: 4, quick: 2, integer: true, min: 1, help: 'node processes behind NGINX' },
  { key: 'cap', flag: 'cap', full: 4000, quick: 100, integer: true, min: 1, help: 'idle connections to open' },
  { key: 'socketsPerUser', flag: 'sockets-per-user', full: 2, quick: 1, integer: true, min: 1, help: 'sockets (tabs) per user: fewer sign-ups for a large cap' },
  { key: 'roomSize', flag: 'room-size', full: 10, quick: 5, integer: true, min: 1, help: 'users per room' },
  { key: 'perSecond', flag: 'per-second', full: 300, quick: 50, help: 'new connections/s, below the admission budgets (100/s per node, 20/s per address)' },
  { key: 'sources', flag: 'sources', full: 64, quick: 8, integer: true, min: 1, help: 'client source addresses 127.0.K.1' },
  { key: 'drivers', flag: 'drivers', full: 2, quick: 2, integer: true, min: 1, help: 'load driver processes' },
  { key: 'idle', flag: 'idle', full: 10, quick: 3, min: 0, help: 'seconds connected and idle before memory is read' },
] as const;

const MiB = 2 ** 20;

/** Heap used by each node's V8, from its /metrics (prom-client's default nodejs_heap_size_used_bytes). */
async function heapUsed(target: LoadTarget): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const node of target.cluster?.nodes ?? []) {
    try {
      const res = await fetch(`${node.url}/metrics`);
      out[node.id] = sampleSum(await res.text(), 'nodejs_heap_size_used_bytes');
    } catch {
      out[node.id] = Number.NaN;
    }
  }
  return out;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const nodesRss = (u: Record<string, GroupUsage>) => sum(Object.entries(u).filter(([n]) => n.startsWith('node-')).map(([, g]) => g.rssBytes));

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(flags, FLAGS);
  if (p.cap % p.socketsPerUser !== 0) throw new Error('--cap must be a multiple of --sockets-per-user');
  const target = await openTarget({ nodes: p.nodes, ...targetFlags(flags), cleanups, log });
  const load = await ChatLoad.create(
    target,
    {
      users: p.cap / p.socketsPerUser,
      roomSize: p.roomSize,
      sources: p.sources,
      drivers: p.drivers,
      socketsPerUser: p.socketsPerUser,
      connectPerSecond: p.perSecond,
      connectTimeoutMs: Math.max(120_000, (p.cap / p.perSecond) * 3000),
      ack: { timeoutMs: 10_000, retries: 5 },
    },
    cleanups,
    log,
  );
  // The nodes after start-up and sign-ups, with no socket yet.
  const before = load.sampler.snapshot();
  const heapBefore = await heapUsed(target);
  const started = Date.now();
  const stats = await load.connectAll(log);
  const connectSeconds = (Date.now() - started) / 1000;
  const connected = load.sampler.snapshot();
  log(`${p.cap} connections open; idle for ${p.idle} s`);
  await new Promise((resolve) => setTimeout(resolve, p.idle * 1000));
  const after = load.sampler.snapshot();
  const heapAfter = await heapUsed(target);

  const connect = roundPercentiles(stats.histograms.connect.summary());
  const rssPerConnKiB = ((nodesRss(after) - nodesRss(before)) / p.cap / 1024).toFixed(1);
  const heapPerConnKiB = target.cluster ? ((sum(Object.values(heapAfter)) - sum(Object.values(heapBefore))) / p.cap / 1024).toFixed(1) : '-';
  const nginxPerConnKiB = after.nginx && before.nginx ? ((after.nginx.rssBytes - before.nginx.rssBytes) / p.cap / 1024).toFixed(1) : '-';
  const rejected = stats.connectErrorCodes.RATE_LIMITED ?? 0;
  // CPU the servers spent while the sockets connected, per connection (refused attempts included: they are
  // part of what a connection costs under admission).
  const cpuMs = (groups: (name: string) => boolean) =>
    (sum(Object.keys(connected).filter(groups).map((n) => connected[n]!.cpuSeconds - (before[n]?.cpuSeconds ?? 0))) * 1000) / p.cap;
  const nodeCpuMs = Math.round(cpuMs((n) => n.startsWith('node-')) * 100) / 100;
  const serverCpuMs = Math.round(cpuMs((n) => n.startsWith('node-') || n === 'postgres' || n === 'redis' || n === 'nginx') * 100) / 100;
  return {
    rows: [],
    tables: [
      {
        title: `connections: ${p.cap} idle sockets (${p.socketsPerUser} per user) through NGINX at ${p.perSecond}/s, ${target.describe}`,
        columns: ['connections', 'open s', 'connect p50 ms', 'connect p95 ms', 'connect p99 ms', 'refused', 'node RSS KiB/conn', 'node heap KiB/conn', 'NGINX KiB/conn', 'node CPU ms/handshake', 'server CPU ms/handshake'],
        rows: [[p.cap, Math.round(connectSeconds * 10) / 10, connect.p50, connect.p95, connect.p99, rejected, rssPerConnKiB, heapPerConnKiB, nginxPerConnKiB, nodeCpuMs, serverCpuMs]],
      },
      {
        title: 'memory per process group, before and after',
        columns: ['process', 'RSS MiB before', 'RSS MiB after', 'heap MiB before', 'heap MiB after'],
        rows: Object.keys(after).filter((name) => name !== MACHINE_GROUP).map((name) => [
          name,
          Math.round(before[name]!.rssBytes / MiB),
          Math.round(after[name]!.rssBytes / MiB),
          heapBefore[name] === undefined ? '-' : Math.round(heapBefore[name] / MiB),
          heapAfter[name] === undefined ? '-' : Math.round(heapAfter[name] / MiB),
        ]),
      },
    ],
    ratios: [],
    parameters: { ...p, target: target.describe },
    notes: [
      'connect = client start → connected (the WebSocket through NGINX, admission, token and session check, room joins), including any refusal and backoff.',
      'per connection = (after − before) / connections, summed over the node processes; RSS includes allocator slack and grows in steps, heap is V8 heap used (after GC timing, not forced).',
      'CPU ms/handshake = CPU used while the sockets connected ÷ connections (refused attempts and their retries included): nodes alone, and nodes + PostgreSQL + Redis + NGINX.',
      `clients per node: ${JSON.stringify(stats.nodes)}; connect_error by code: ${JSON.stringify(stats.connectErrorCodes)}.`,
    ],
    failures: [],
    details: { connect, before, after, heapBefore, heapAfter, stats: { nodes: stats.nodes, connectErrorCodes: stats.connectErrorCodes } },
  };
}

export const connectionsScenario: Scenario = {
  name: 'connections',
  summary: 'idle connections up to a cap: connect time p50/p99 and server memory per connection',
  usage: [...TARGET_USAGE, ...usageFor(FLAGS)],
  options: optionsFor(FLAGS),
  run,
};
