import { startPostgres, type PostgresCluster } from './postgres';
import { startRedis, type RedisServer } from './redis';

const USAGE = `Usage: pnpm exec tsx packages/testkit/src/cli.ts services

  services   start a PostgreSQL primary + streaming replica and a Redis on free loopback ports,
             print their URLs, and stop them all on Ctrl+C (SIGINT) or SIGTERM`;

async function services(): Promise<void> {
  let postgres: PostgresCluster | undefined;
  let redis: RedisServer | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= Promise.allSettled([postgres?.stop(), redis?.stop()]).then((results) => {
      for (const result of results) if (result.status === 'rejected') console.error(result.reason);
    }));
  // Registered before starting, so a Ctrl+C during start-up still cleans up what got started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
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

const command = process.argv[2];
if (command === 'services') {
  services().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
} else {
  console.error(USAGE);
  process.exit(command === '--help' ? 0 : 2);
}
