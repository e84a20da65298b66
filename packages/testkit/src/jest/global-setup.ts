import { startPostgres } from '../postgres';
import { startRedis } from '../redis';
import { TEST_ENV } from '../test-services';
import { saveStartedServices, type StartedServices } from './services-handle';

/**
 * Starts one PostgreSQL primary + streaming replica and one Redis for the whole jest run, and hands
 * their URLs to the workers through the environment (workers are forked after this, so they inherit
 * it). A service whose URL is already set is not started: a developer can point tests at their own.
 */
export default async function globalSetup(): Promise<void> {
  const started: StartedServices = { envSet: [] };
  const setEnv = (name: string, value: string) => {
    process.env[name] = value;
    started.envSet.push(name);
  };
  saveStartedServices(started);

  const wantPostgres = !process.env[TEST_ENV.databaseUrl];
  const wantRedis = !process.env[TEST_ENV.redisUrl];
  if (!wantPostgres && !process.env[TEST_ENV.replicaUrl]) {
    throw new Error(
      `${TEST_ENV.databaseUrl} is set but ${TEST_ENV.replicaUrl} is not: set it too ` +
        '(to the same URL if you have no replica).',
    );
  }

  // In parallel: initdb + base backup dominate, and Redis is ready long before.
  const [postgres, redis] = await Promise.allSettled([
    wantPostgres ? startPostgres({ replica: true }) : undefined,
    wantRedis ? startRedis() : undefined,
  ]);
  if (postgres.status === 'fulfilled') started.postgres = postgres.value;
  if (redis.status === 'fulfilled') started.redis = redis.value;
  const failure = [postgres, redis].find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.allSettled([started.postgres?.stop(), started.redis?.stop()]);
    throw failure.reason;
  }

  if (started.postgres) {
    setEnv(TEST_ENV.databaseUrl, started.postgres.primaryUrl);
    setEnv(TEST_ENV.replicaUrl, started.postgres.replicaUrl!);
  }
  if (started.redis) setEnv(TEST_ENV.redisUrl, started.redis.url);
}
