import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from './cluster';
import { REPO_ROOT } from './nginx';
import { startPostgres, type PostgresCluster } from './postgres';
import { startRedis, type RedisServer } from './redis';

const USAGE = `Usage: pnpm exec tsx packages/testkit/src/cli.ts services
       pnpm cluster --nodes N [--workers W] [--balance ipHash|consistentHash]

  services   start a PostgreSQL primary + streaming replica and a Redis on free loopback ports,
             print their URLs, and stop them all on Ctrl+C (SIGINT) or SIGTERM
  cluster    also start N backend nodes (W worker processes each) and NGINX in front of them,
             building the web app first if apps/web/dist is missing; print the entry URL and each
             node's URL, and stop everything on Ctrl+C (SIGINT) or SIGTERM`;

function positiveInt(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function cluster(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string' }, workers: { type: 'string' }, balance: { type: 'string' } },
  });
  const nodes = positiveInt('nodes', values.nodes, 2)!;
  const workers = positiveInt('workers', values.workers, undefined);
  const balance = values.balance ?? 'ipHash';
  if (balance !== 'ipHash' && balance !== 'consistentHash') throw new Error('--balance must be ipHash or consistentHash');

  if (!existsSync(join(REPO_ROOT, 'apps/web/dist/index.html'))) {
    console.log('apps/web/dist is missing: building the web app (pnpm --filter @chat/web build)…');
    const build = spawnSync('pnpm', ['--filter', '@chat/web', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('building the web app failed');
  }

  const state: { cluster?: Cluster } = {};
  let stopping = false;
  const stop = async () => {
    try {
      await state.cluster?.stop();
      process.exit(0);
    } catch (error) {
      console.error(error);
      process.exit(1);
    }
  };
  // `on`, not `once`: a Ctrl+C reaches us twice (from the terminal, and relayed by tsx), and the second
  // must not kill us halfway through stopping.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping the cluster…`);
      // While startCluster is still starting, it stops what it started when it fails (the children share
      // our process group, so a Ctrl+C reaches them too); we stop it after it returns otherwise.
      if (state.cluster) void stop();
    });
  }

  console.log(`starting PostgreSQL primary + replica, Redis, ${nodes} node(s)${workers ? ` × ${workers} workers` : ''} and NGINX…`);
  const running = (state.cluster = await startCluster({ nodes, workers, balance }));
  if (stopping) return stop();
  const width = Math.max(...running.nodes.map((node) => node.id.length));
  console.log(`
Entry (NGINX)       ${running.entryUrl}
${running.nodes.map((node) => `${node.id.padEnd(width)}  ${node.url}  pid ${node.pid}  log ${node.logFile}`).join('\n')}
PostgreSQL primary  ${running.postgres.primaryUrl}
PostgreSQL replica  ${running.postgres.replicaUrl}
Redis               ${running.redis.url}
NGINX logs          ${running.nginx.accessLog}, ${running.nginx.errorLog}

Open ${running.entryUrl} in a browser. Press Ctrl+C to stop everything.`);
}

async function services(): Promise<void> {
  let postgres: PostgresCluster | undefined;
  let redis: RedisServer | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= Promise.allSettled([postgres?.stop(), redis?.stop()]).then((results) => {
      for (const result of results) if (result.status === 'rejected') console.error(result.reason);
    }));
  // Registered before starting, so a Ctrl+C during start-up still cleans up what got started. `on`: tsx
  // relays the signal a second time, which must not kill us before the temporary directories are gone.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      console.log(`\n${signal}: stopping services…`);
      void stopAll().then(() => process.exit(0));
    });
  }

  const [pg, rd] = await Promise.allSettled([startPostgres({ replica: true }), startRedis()]);
  if (pg.status === 'fulfilled') postgres = pg.value;
  if (rd.status === 'fulfilled') redis = rd.value;
  if (!postgres || !redis) {
    await stopAll();
    throw [pg, rd].map((r) => (r.status === 'rejected' ? r.reason : undefined)).find(Boolean);
  }

  // Both spellings: the server's own configuration, and the variables that make jest reuse these services.
  console.log(`PostgreSQL primary  ${postgres.primaryUrl}
PostgreSQL replica  ${postgres.replicaUrl}
Redis               ${redis.url}
Logs                ${postgres.dir}

export DATABASE_URL=${postgres.primaryUrl} DATABASE_REPLICA_URLS=${postgres.replicaUrl} REDIS_URL=${redis.url}
export TEST_DATABASE_URL=${postgres.primaryUrl} TEST_DATABASE_REPLICA_URL=${postgres.replicaUrl} TEST_REDIS_URL=${redis.url}

Press Ctrl+C to stop.`);
}

const fail = (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
};
const command = process.argv[2];
if (command === 'services') {
  services().catch(fail);
} else if (command === 'cluster') {
  cluster(process.argv.slice(3)).catch(fail);
} else {
  console.error(USAGE);
  process.exit(command === '--help' ? 0 : 2);
}
