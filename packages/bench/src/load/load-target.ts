import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster } from '@chat/testkit';
import { benchDir } from '../report';
import type { Cleanups } from '../cleanups';
import type { ProcessGroup } from './process-usage';

/** What a load scenario runs against: a cluster it started, or one already running (`--url`). */
export interface LoadTarget {
  /** The entry clients use: NGINX. */
  url: string;
  /** Present when the scenario started the cluster (node kills, database polling need it). */
  cluster: Cluster | undefined;
  /** Processes whose CPU and memory are reported (nodes, PostgreSQL, NGINX), where known. */
  groups: ProcessGroup[];
  describe: string;
  /** Stops what openTarget started (nothing with --url); also registered as a cleanup. */
  close(): Promise<void>;
}

/** Node environment every load cluster gets, on top of startCluster's (scenarios add theirs). */
const LOAD_ENV: Record<string, string> = {
  // Clients use the token from sign-up for the whole run; a long run must not outlive it.
  ACCESS_TOKEN_TTL_SECONDS: '7200',
  LOG_LEVEL: 'warn',
};

export interface TargetOptions {
  nodes: number;
  env?: Record<string, string>;
  /** A running cluster's entry URL (`pnpm cluster`); then nothing is started. */
  url?: string;
  /** PIDs of that cluster's nodes, to report their CPU and memory. */
  nodePids?: number[];
  /** Copy the cluster's logs (nodes, PostgreSQL, NGINX) under .bench/logs/ before stopping it. */
  keepLogs?: boolean;
  cleanups: Cleanups;
  log(message: string): void;
}

export async function openTarget(opts: TargetOptions): Promise<LoadTarget> {
  if (opts.url) {
    const groups = (opts.nodePids ?? []).map((pid, i) => ({ name: `node-${i + 1}`, pids: () => [pid] }));
    return { url: opts.url.replace(/\/+$/, ''), cluster: undefined, groups, describe: `running cluster at ${opts.url}`, close: async () => {} };
  }
  const env = { ...LOAD_ENV, ...opts.env };
  opts.log(`starting a cluster: PostgreSQL primary + replica, Redis, ${opts.nodes} node(s), NGINX${opts.env && Object.keys(opts.env).length > 0 ? ` (${Object.entries(opts.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`);
  const cluster = await startCluster({ nodes: opts.nodes, env, timeoutMs: 120_000 });
  const close = opts.cleanups.add('stop cluster', async () => {
    if (opts.keepLogs) keepLogs(cluster, opts.log);
    await cluster.stop();
  });
  opts.log(`cluster up: entry ${cluster.entryUrl}, nodes ${cluster.nodes.map((n) => `${n.id} pid ${n.pid}`).join(', ')}`);
  const groups: ProcessGroup[] = [
    ...cluster.nodes.map((node) => ({ name: node.id, pids: () => [node.pid] })),
    { name: 'postgres', pids: () => [cluster.postgres.server.primaryPid, cluster.postgres.server.replicaPid] },
    { name: 'nginx', pids: () => [cluster.nginx.pid] },
  ];
  return { url: cluster.entryUrl, cluster, groups, describe: `${opts.nodes} node(s) behind NGINX (started by this run)`, close };
}

function keepLogs(cluster: Cluster, log: (m: string) => void): void {
  const dir = path.join(benchDir(), 'logs', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  for (const file of cluster.logFiles()) {
    if (existsSync(file)) copyFileSync(file, path.join(dir, `${path.basename(path.dirname(file))}-${path.basename(file)}`));
  }
  log(`cluster logs kept in ${dir}`);
}
