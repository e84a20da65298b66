import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { onFreePort } from './free-port';
import { startNginx, type NginxServer, type UpstreamBalance } from './nginx';
import { NodeChild, nodeBaseEnv, type NodeProcess } from './node-process';
import { withDatabase, withPgClient } from './pg-client';
import { startPostgres, type PostgresCluster } from './postgres';
import { tailFile } from './process';
import { startRedis, type RedisServer } from './redis';
import { ensureServerBuild, SERVER_ENTRY, SERVER_NODE_FLAGS } from './server-build';
import { makeTempDir, removeDir } from './temp-dir';

export interface StartClusterOptions {
  /** Backend node processes (`node-1` … `node-N`). */
  nodes: number;
  /** WORKERS for each node (worker processes behind @socket.io/sticky); the node's default when unset. */
  workers?: number;
  /** Extra environment for every node, applied last (e.g. `{ DRAIN_WINDOW_MS: '1000' }`). */
  env?: Record<string, string>;
  /** NGINX balancing method; `ipHash` by default. */
  balance?: UpstreamBalance;
  /** Static files NGINX serves at `/`; apps/web/dist of this repository by default. */
  webRoot?: string;
  /** NGINX worker processes (default 1); see `nginxWorkersFor` for runs with thousands of clients. */
  nginxWorkers?: number;
  /** Deadline for each process to become ready. */
  timeoutMs?: number;
  /**
   * Another node program in place of the chat server (a TypeScript path from the repository root, run with
   * tsx), e.g. the benchmark's bare Socket.IO ceiling. It gets the same environment and must answer `/readyz`.
   */
  nodeMain?: string;
  /** Extra Node.js arguments for every node process (e.g. `--require` of a profiling preload). */
  nodeArgs?: string[];
}

/** A node of the cluster, `node-<i>`; `url` reaches it bypassing NGINX. */
export type ClusterNode = NodeProcess;

export interface ClusterPostgres {
  /** The cluster's database on the primary and on the streaming replica. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly databaseName: string;
  readonly server: PostgresCluster;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  waitForReplicaCatchUp(options?: { timeoutMs?: number }): Promise<void>;
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
}

export interface Cluster {
  /** NGINX: the one address clients use. */
  readonly entryUrl: string;
  readonly nodes: readonly ClusterNode[];
  readonly redis: { readonly url: string; readonly pid: number | undefined; restart(): Promise<void>; kill(): Promise<void> };
  readonly postgres: ClusterPostgres;
  readonly nginx: NginxServer;
  /** Holds every node's log file. */
  readonly dir: string;
  /** Every log file of the cluster, for error messages. */
  logFiles(): string[];
  /** Stops everything this cluster started, by PID, and removes its temporary directories. */
  stop(): Promise<void>;
}

const DATABASE_NAME = 'chat';

/**
 * The cluster topology from local binaries on loopback: PostgreSQL primary + streaming replica, Redis,
 * `nodes` backend node processes and NGINX in front of them. Nodes migrate the database at start
 * (advisory-locked, so they may all do it at once). Used by `pnpm cluster` and by the cluster tests.
 */
export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new Error('startCluster: nodes must be >= 1');
  const timeoutMs = options.timeoutMs ?? 60_000;
  ensureServerBuild();
  const dir = makeTempDir('chat-cluster-');
  let postgres: PostgresCluster | undefined;
  let redis: RedisServer | undefined;
  let nginx: NginxServer | undefined;
  const nodes: NodeChild[] = [];

  const stopAll = async ({ keepLogs = false } = {}) => {
    const results = await Promise.allSettled([nginx?.stop(), ...nodes.map((node) => node.stop())]);
    results.push(...(await Promise.allSettled([postgres?.stop(), redis?.stop()])));
    if (!keepLogs) removeDir(dir);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  };
  const logFiles = () =>
    [
      ...nodes.map((node) => node.logFile),
      ...(postgres ? [join(postgres.dir, 'primary.log'), join(postgres.dir, 'replica.log')] : []),
      ...(nginx ? [nginx.errorLog, nginx.accessLog] : []),
    ];

  try {
    const [pg, rd] = await Promise.allSettled([startPostgres({ replica: true, timeoutMs }), startRedis()]);
    if (pg.status === 'fulfilled') postgres = pg.value;
    if (rd.status === 'fulfilled') redis = rd.value;
    if (pg.status === 'rejected') throw pg.reason;
    if (rd.status === 'rejected') throw rd.reason;
    const pgServer = postgres!;
    await withPgClient(pgServer.primaryUrl, (client) => client.query(`create database ${DATABASE_NAME}`));
    // The nodes read from the replica from their first request on: it must have the database.
    await pgServer.waitForReplicaCatchUp({ timeoutMs });

    const env: NodeJS.ProcessEnv = {
      ...nodeBaseEnv(),
      HOST: '127.0.0.1',
      DATABASE_URL: withDatabase(pgServer.primaryUrl, DATABASE_NAME),
      DATABASE_REPLICA_URLS: withDatabase(pgServer.replicaUrl!, DATABASE_NAME),
      REDIS_URL: redis!.url,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
      TRUST_PROXY: '127.0.0.1',
      NODE_ENV: 'production',
      ...(options.workers === undefined ? {} : { WORKERS: String(options.workers) }),
      ...options.env,
    };
    for (let i = 1; i <= options.nodes; i++) {
      const id = `node-${i}`;
      const argv = [...SERVER_NODE_FLAGS, ...(options.nodeArgs ?? []), ...(options.nodeMain ? ['--import', 'tsx', options.nodeMain] : [SERVER_ENTRY])];
      nodes.push(new NodeChild(id, join(dir, `${id}.log`), { ...env, NODE_ID: id }, timeoutMs, argv));
    }
    const started = await Promise.allSettled(nodes.map((node) => onFreePort((port) => node.start(port))));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;

    nginx = await startNginx({
      upstreams: nodes.map((node) => `127.0.0.1:${node.port}`),
      balance: options.balance,
      webRoot: options.webRoot,
      workerProcesses: options.nginxWorkers ?? 1,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The nodes' logs stay behind for inspection; everything else is stopped and removed.
    await stopAll({ keepLogs: true }).catch(() => undefined);
    throw new Error(`startCluster failed: ${message}\nnode logs are kept in ${dir}`);
  }

  const pgServer = postgres!;
  const redisServer = redis!;
  return {
    entryUrl: nginx.url,
    nodes,
    redis: {
      url: redisServer.url,
      get pid() {
        return redisServer.pid;
      },
      restart: () => redisServer.restart(),
      kill: () => redisServer.kill(),
    },
    postgres: {
      primaryUrl: withDatabase(pgServer.primaryUrl, DATABASE_NAME),
      replicaUrl: withDatabase(pgServer.replicaUrl!, DATABASE_NAME),
      databaseName: DATABASE_NAME,
      server: pgServer,
      pauseReplay: () => pgServer.pauseReplay(),
      resumeReplay: () => pgServer.resumeReplay(),
      waitForReplicaCatchUp: (opts) => pgServer.waitForReplicaCatchUp(opts),
      stopReplica: () => pgServer.stopReplica(),
      startReplica: () => pgServer.startReplica(),
    },
    nginx,
    dir,
    logFiles,
    stop: () => stopAll(),
  };
}

/** The last lines of each node's log, for a failing test's message. */
export function describeClusterLogs(cluster: Pick<Cluster, 'nodes'>, lines = 20): string {
  return cluster.nodes.map((node) => `--- ${node.id} (${node.logFile}) ---\n${tailFile(node.logFile, lines)}`).join('\n');
}
