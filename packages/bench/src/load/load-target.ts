import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nginxWorkersFor, startCluster, waitUntil, type Cluster } from '@chat/testkit';
import { benchDir } from '../report';
import type { Cleanups } from '../cleanups';
import type { ProcessGroup } from './process-usage';

/** What a load scenario runs against: a cluster it started, or one already running (`--url`). */
/** `chat`: our nodes; `ceiling`: bare Socket.IO broadcast nodes (src/ceiling/ceiling-node.ts) on the same topology. */
export type TargetKind = 'chat' | 'ceiling';

export interface LoadTarget {
  kind: TargetKind;
  /** The entry clients use: NGINX. */
  url: string;
  /** Present when the scenario started the cluster (node kills, database polling need it). */
  cluster: Cluster | undefined;
  /** Processes whose CPU and memory are reported (nodes, PostgreSQL, NGINX), where known. */
  groups: ProcessGroup[];
  describe: string;
  /** Stops what openTarget started (nothing with --url); also registered as a cleanup. */
  close(): Promise<void>;
  /** With --cpu-prof: starts (first call) or writes and stops (second call) every node's CPU profile. */
  toggleProfiles(): void;
  /** With --driver-cpu-prof: where each load driver writes a V8 CPU profile of its whole life when it exits. */
  driverProfileDir?: string;
  /**
   * A full garbage collection in every node, then each node's memory (by node id): memory per socket without
   * the collector's timing in it. Undefined for a cluster the run did not start (--url).
   */
  collectGarbage(): Promise<Record<string, NodeMemory> | undefined>;
}

/** `process.memoryUsage()` of a node right after a forced full collection (forced-gc/preload.cjs). */
export interface NodeMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Loaded into every node with --cpu-prof or --heap-prof: profiles on SIGUSR2. */
const PROFILE_PRELOAD = path.join(__dirname, '../cpu-profile/preload.cjs');
/** Loaded into every node: a full collection and a memory report on SIGWINCH. */
const GC_PRELOAD = path.join(__dirname, '../forced-gc/preload.cjs');

/** The ceiling's node program, from the repository root. */
const CEILING_MAIN = 'packages/bench/src/ceiling/ceiling-node.ts';

/** Node environment every load cluster gets, on top of startCluster's (scenarios add theirs). */
const LOAD_ENV: Record<string, string> = {
  // Clients use the token from sign-up for the whole run; a long run must not outlive it.
  ACCESS_TOKEN_TTL_SECONDS: '7200',
  LOG_LEVEL: 'warn',
  // Thousands of users behind 64 source addresses (up to ~160 per address at 10,000 clients) sign up and set up
  // rooms at once: the REST budgets per address are scaled as for users behind a shared address. The message
  // path, the socket event budgets and handshake admission keep their defaults.
  HTTP_BUDGET_MULTIPLIER: '10',
};

export interface TargetOptions {
  /** Default `chat`. */
  kind?: TargetKind;
  nodes: number;
  env?: Record<string, string>;
  /** A running cluster's entry URL (`pnpm cluster`); then nothing is started. */
  url?: string;
  /** PIDs of that cluster's nodes, to report their CPU and memory. */
  nodePids?: number[];
  /** Copy the cluster's logs (nodes, PostgreSQL, NGINX) under .bench/logs/ before stopping it. */
  keepLogs?: boolean;
  /** Nodes profile each measured window into this directory (cpu-profile/preload.cjs; `profile()` signals them). */
  profileDir?: string;
  /** Nodes write a sampling heap profile of each measured window into this directory (the same preload and signals). */
  heapProfileDir?: string;
  /** `--node-env`: extra environment for our nodes only (not the ceiling's). */
  nodeEnv?: Record<string, string>;
  /** `--node-args`: extra Node.js flags for our nodes only (not the ceiling's). */
  nodeArgs?: string[];
  /** `--driver-cpu-prof`: the load drivers profile their whole life into this directory. */
  driverProfileDir?: string;
  /** Clients connected at once (NGINX gets the worker processes their descriptors need); default 1,000. */
  clients?: number;
  cleanups: Cleanups;
  log(message: string): void;
}

export async function openTarget(opts: TargetOptions): Promise<LoadTarget> {
  if (opts.url) {
    const groups = (opts.nodePids ?? []).map((pid, i) => ({ name: `node-${i + 1}`, pids: () => [pid] }));
    if (opts.kind === 'ceiling') throw new Error('--url runs against our cluster; the ceiling is always started by the run');
    return {
      kind: 'chat',
      url: opts.url.replace(/\/+$/, ''),
      cluster: undefined,
      groups,
      describe: `running cluster at ${opts.url}`,
      close: async () => {},
      toggleProfiles: () => {},
      collectGarbage: async () => undefined,
      ...(opts.driverProfileDir ? { driverProfileDir: path.join(opts.driverProfileDir, 'chat-url') } : {}),
    };
  }
  const kind = opts.kind ?? 'chat';
  const gcDir = mkdtempSync(path.join(tmpdir(), 'bench-gc-'));
  opts.cleanups.add('remove the memory reports', async () => rmSync(gcDir, { recursive: true, force: true }));
  const env = {
    ...LOAD_ENV,
    CHAT_GC_REPORT_DIR: gcDir,
    ...(kind === 'ceiling' ? { CEILING_ADAPTER: opts.nodes > 1 ? 'sharded' : 'none' } : {}),
    ...(opts.profileDir ? { CHAT_CPU_PROFILE_DIR: path.join(opts.profileDir, `${kind}-${opts.nodes}`) } : {}),
    ...(opts.heapProfileDir ? { CHAT_HEAP_PROFILE_DIR: path.join(opts.heapProfileDir, `${kind}-${opts.nodes}`) } : {}),
    ...opts.env,
    ...(kind === 'chat' ? opts.nodeEnv : {}),
  };
  const profiling = opts.profileDir !== undefined || opts.heapProfileDir !== undefined;
  const what = kind === 'ceiling' ? 'ceiling node(s) (bare Socket.IO broadcast)' : 'node(s)';
  const shown = { ...opts.env, ...(kind === 'chat' ? opts.nodeEnv : {}), ...(kind === 'chat' && opts.nodeArgs ? { 'node args': opts.nodeArgs.join(' ') } : {}) };
  opts.log(`starting a cluster: PostgreSQL primary + replica, Redis, ${opts.nodes} ${what}, NGINX${Object.keys(shown).length > 0 ? ` (${Object.entries(shown).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`);
  const cluster = await startCluster({
    nodes: opts.nodes,
    env,
    timeoutMs: 120_000,
    nginxWorkers: nginxWorkersFor(opts.clients ?? 1000),
    ...(kind === 'ceiling' ? { nodeMain: CEILING_MAIN } : {}),
    nodeArgs: ['--require', GC_PRELOAD, ...(profiling ? ['--require', PROFILE_PRELOAD] : []), ...(kind === 'chat' ? (opts.nodeArgs ?? []) : [])],
  });
  const close = opts.cleanups.add('stop cluster', async () => {
    if (opts.keepLogs) keepLogs(cluster, opts.log);
    await cluster.stop();
  });
  opts.log(`cluster up: entry ${cluster.entryUrl}, nodes ${cluster.nodes.map((n) => `${n.id} pid ${n.pid}`).join(', ')}`);
  const groups: ProcessGroup[] = [
    ...cluster.nodes.map((node) => ({ name: node.id, pids: () => [node.pid] })),
    { name: 'postgres', pids: () => [cluster.postgres.server.primaryPid, cluster.postgres.server.replicaPid] },
    { name: 'nginx', pids: () => [cluster.nginx.pid] },
    { name: 'redis', pids: () => [cluster.redis.pid] },
  ];
  const describe = kind === 'ceiling' ? `${opts.nodes} ceiling node(s) behind NGINX` : `${opts.nodes} node(s) behind NGINX`;
  const toggleProfiles = () => {
    if (!profiling) return;
    for (const node of cluster.nodes) if (node.pid !== undefined) process.kill(node.pid, 'SIGUSR2');
  };
  const collectGarbage = async () => {
    const out: Record<string, NodeMemory> = {};
    for (const node of cluster.nodes) {
      if (node.pid === undefined) continue;
      const file = path.join(gcDir, `${node.pid}.json`);
      const read = (): (NodeMemory & { count: number }) | undefined => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
      const before = read()?.count ?? 0;
      process.kill(node.pid, 'SIGWINCH');
      await waitUntil(async () => (read()?.count ?? 0) > before, { timeoutMs: 30_000, intervalMs: 50, description: `${node.id}'s memory report after a forced collection` });
      const { rss, heapUsed, external, arrayBuffers } = read()!;
      out[node.id] = { rss, heapUsed, external, arrayBuffers };
    }
    return out;
  };
  const driverProfileDir = opts.driverProfileDir ? path.join(opts.driverProfileDir, `drivers-${kind}-${opts.nodes}`) : undefined;
  return { kind, url: cluster.entryUrl, cluster, groups, describe, close, toggleProfiles, collectGarbage, ...(driverProfileDir ? { driverProfileDir } : {}) };
}

function keepLogs(cluster: Cluster, log: (m: string) => void): void {
  const dir = path.join(benchDir(), 'logs', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  for (const file of cluster.logFiles()) {
    if (existsSync(file)) copyFileSync(file, path.join(dir, `${path.basename(path.dirname(file))}-${path.basename(file)}`));
  }
  log(`cluster logs kept in ${dir}`);
}
