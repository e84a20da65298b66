import { ChatLoad, roundPercentiles } from '../load/chat-load';
import { optionsFor, readNumbers, targetFlags, TARGET_USAGE, usageFor } from '../load/load-flags';
import { AGAINST_OPTION, AGAINST_USAGE, TARGET_LABEL, targetsOf } from '../load/against';
import { openTarget, type NodeMemory, type TargetKind } from '../load/load-target';
import { MACHINE_GROUP, type GroupUsage } from '../load/process-usage';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { ratio } from '../stats';

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

/** A node's live memory after a forced full collection: the V8 heap in use and what V8 holds outside it. */
const liveBytes = (m: NodeMemory) => m.heapUsed + m.external;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const nodesRss = (u: Record<string, GroupUsage>) => sum(Object.entries(u).filter(([n]) => n.startsWith('node-')).map(([, g]) => g.rssBytes));

interface ConnectionsRun {
  kind: TargetKind;
  describe: string;
  connectSeconds: number;
  /** Clients connected and synced within the connect timeout (the per-socket figures divide by this). */
  connected: number;
  connect: ReturnType<typeof roundPercentiles>;
  rejected: number;
  rssPerConnKiB: number;
  heapPerConnKiB: number;
  nginxPerConnKiB: number;
  nodeCpuMs: number;
  serverCpuMs: number;
  before: Record<string, GroupUsage>;
  after: Record<string, GroupUsage>;
  /** Each node's memory right after a forced full collection (undefined with --url). */
  memoryBefore: Record<string, NodeMemory> | undefined;
  memoryAfter: Record<string, NodeMemory> | undefined;
  stats: { nodes: Record<string, number>; connectErrorCodes: Record<string, number> };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

async function measure(kind: TargetKind, p: Record<(typeof FLAGS)[number]['key'], number>, { flags, cleanups, log }: ScenarioContext): Promise<ConnectionsRun> {
  const target = await openTarget({ kind, nodes: p.nodes, clients: p.cap, ...targetFlags(flags), cleanups, log });
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
  const memoryBefore = await target.collectGarbage();
  const before = load.sampler.snapshot();
  const started = Date.now();
  target.toggleProfiles(); // with --cpu-prof: the handshakes are the measured window
  // A few stragglers must not throw away the memory and CPU figures of the rest: they are counted and shown.
  const stats = await load.connectAll(log, { allowMissing: true });
  const connectSeconds = (Date.now() - started) / 1000;
  target.toggleProfiles();
  const connected = load.sampler.snapshot();
  log(`${kind}: ${p.cap} connections open; idle for ${p.idle} s`);
  await new Promise((resolve) => setTimeout(resolve, p.idle * 1000));
  const memoryAfter = await target.collectGarbage();
  const after = load.sampler.snapshot();
  await load.close();
  await target.close();

  // CPU the servers spent while the sockets connected, per connection (refused attempts included: they are
  // part of what a connection costs under admission).
  const cpuMs = (groups: (name: string) => boolean) =>
    (sum(Object.keys(connected).filter(groups).map((n) => connected[n]!.cpuSeconds - (before[n]?.cpuSeconds ?? 0))) * 1000) / stats.synced;
  return {
    kind,
    describe: target.describe,
    connectSeconds: round1(connectSeconds),
    connect: roundPercentiles(stats.histograms.connect.summary()),
    rejected: stats.connectErrorCodes.RATE_LIMITED ?? 0,
    connected: stats.synced,
    rssPerConnKiB: round1((nodesRss(after) - nodesRss(before)) / stats.synced / 1024),
    heapPerConnKiB:
      memoryBefore && memoryAfter ? round1((sum(Object.values(memoryAfter).map(liveBytes)) - sum(Object.values(memoryBefore).map(liveBytes))) / stats.synced / 1024) : Number.NaN,
    nginxPerConnKiB: after.nginx && before.nginx ? round1((after.nginx.rssBytes - before.nginx.rssBytes) / stats.synced / 1024) : Number.NaN,
    nodeCpuMs: Math.round(cpuMs((n) => n.startsWith('node-')) * 100) / 100,
    serverCpuMs: Math.round(cpuMs((n) => n.startsWith('node-') || n === 'postgres' || n === 'redis' || n === 'nginx') * 100) / 100,
    before,
    after,
    memoryBefore,
    memoryAfter,
    stats: { nodes: stats.nodes, connectErrorCodes: stats.connectErrorCodes },
  };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(context.flags, FLAGS);
  if (p.cap % p.socketsPerUser !== 0) throw new Error('--cap must be a multiple of --sockets-per-user');
  const runs: ConnectionsRun[] = [];
  for (const kind of targetsOf(context.flags)) runs.push(await measure(kind, p, context));
  const chat = runs.find((r) => r.kind === 'chat');
  const ceiling = runs.find((r) => r.kind === 'ceiling');
  return {
    rows: [],
    tables: [
      {
        title: `connections: ${p.cap} idle sockets (${p.socketsPerUser} per user) through NGINX at ${p.perSecond}/s, ${p.nodes} node(s)`,
        columns: ['target', 'connections', 'connected', 'open s', 'connect p50 ms', 'connect p95 ms', 'connect p99 ms', 'refused', 'node RSS KiB/conn', 'node heap+external KiB/conn', 'NGINX KiB/conn', 'node CPU ms/handshake', 'server CPU ms/handshake'],
        rows: runs.map((r) => [TARGET_LABEL[r.kind], p.cap, r.connected, r.connectSeconds, r.connect.p50, r.connect.p95, r.connect.p99, r.rejected, r.rssPerConnKiB, r.heapPerConnKiB, r.nginxPerConnKiB, r.nodeCpuMs, r.serverCpuMs]),
      },
      ...runs.map((r) => ({
        title: `memory per process group, before and after: ${r.describe}`,
        columns: ['process', 'RSS MiB before', 'RSS MiB after', 'heap+external MiB before', 'heap+external MiB after'],
        rows: Object.keys(r.after).filter((name) => name !== MACHINE_GROUP).map((name) => {
          const [b, a] = [r.memoryBefore?.[name], r.memoryAfter?.[name]];
          return [
            name,
            Math.round(r.before[name]!.rssBytes / MiB),
            Math.round(r.after[name]!.rssBytes / MiB),
            b ? Math.round((liveBytes(b) / MiB) * 10) / 10 : '-',
            a ? Math.round((liveBytes(a) / MiB) * 10) / 10 : '-',
          ];
        }),
      })),
    ],
    ratios: [
      ...(chat
        ? [
            { label: 'node CPU per handshake (chat)', value: chat.nodeCpuMs, unit: 'ms', goal: { value: 2, direction: 'max' as const } },
            { label: 'node RSS per idle socket (chat)', value: chat.rssPerConnKiB, unit: 'KiB', goal: { value: 15, direction: 'max' as const } },
            { label: 'node heap+external per idle socket (chat, forced GC)', value: chat.heapPerConnKiB, unit: 'KiB', goal: { value: 15, direction: 'max' as const } },
          ]
        : []),
      ...(chat && ceiling
        ? [
            { label: 'node CPU per handshake, chat / ceiling', value: ratio(chat.nodeCpuMs, ceiling.nodeCpuMs) },
            { label: 'server CPU per handshake, chat / ceiling', value: ratio(chat.serverCpuMs, ceiling.serverCpuMs) },
            { label: 'node heap+external per idle socket, chat / ceiling', value: ratio(chat.heapPerConnKiB, ceiling.heapPerConnKiB) },
          ]
        : []),
    ],
    parameters: { ...p, targets: runs.map((r) => r.kind) },
    notes: [
      'connect = client start → connected (the WebSocket through NGINX, admission, token and session check, room joins), including any refusal and backoff.',
      'per connection = (after − before) / connections, summed over the node processes. Before = after sign-ups, with no socket; after = the idle wait. Each node runs a full garbage collection (forced-gc/preload.cjs) just before both readings: heap+external is V8 heap used plus memory V8 holds outside it (buffers) right after it; RSS (read after the collection) also holds allocator slack and pages not yet given back.',
      'connected = clients connected and synced within the connect timeout; every per-connection figure divides by it.',
      'CPU ms/handshake = CPU used while the sockets connected ÷ connections (refused attempts and their retries included): nodes alone, and nodes + PostgreSQL + Redis + NGINX.',
      'ceiling = bare Socket.IO nodes (no auth, admission, database or presence; the sharded Redis adapter when N > 1) behind the same NGINX, the same clients.',
      ...runs.map((r) => `${r.kind}: clients per node: ${JSON.stringify(r.stats.nodes)}; connect_error by code: ${JSON.stringify(r.stats.connectErrorCodes)}.`),
    ],
    failures: [],
    details: Object.fromEntries(runs.map((r) => [r.kind, r])),
  };
}

export const connectionsScenario: Scenario = {
  name: 'connections',
  summary: 'idle connections up to a cap: connect time p50/p99 and server memory per connection',
  usage: [...TARGET_USAGE, AGAINST_USAGE, ...usageFor(FLAGS)],
  options: optionsFor(FLAGS, AGAINST_OPTION),
  run,
};
