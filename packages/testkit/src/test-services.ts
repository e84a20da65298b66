/** Environment variables through which jest's global setup hands its services to the test workers. */
export const TEST_ENV = {
  databaseUrl: 'TEST_DATABASE_URL',
  replicaUrl: 'TEST_DATABASE_REPLICA_URL',
  redisUrl: 'TEST_REDIS_URL',
} as const;

export interface TestServices {
  /** Primary, database `postgres`. Create a database per test file with `createTestDatabase()`. */
  databaseUrl: string;
  /** Streaming replica of the primary. */
  replicaUrl: string;
  redisUrl: string;
}

/** The services started by jest's global setup (or set by hand in the environment). */
export function testServices(): TestServices {
  const read = (name: string) => {
    const value = process.env[name];
    if (!value) {
      throw new Error(
        `${name} is not set: the jest global setup of @chat/testkit did not run ` +
          `(run tests through the root jest.config.js), or set ${Object.values(TEST_ENV).join(', ')} ` +
          'to existing services.',
      );
    }
    return value;
  };
  return {
    databaseUrl: read(TEST_ENV.databaseUrl),
    replicaUrl: read(TEST_ENV.replicaUrl),
    redisUrl: read(TEST_ENV.redisUrl),
  };
}
