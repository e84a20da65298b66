import { randomBytes } from 'node:crypto';
import { withDatabase, withPgClient } from './pg-client';
import { waitForReplicaCatchUp } from './replication';
import { testServices } from './test-services';
import { waitUntil } from './wait-until';

export interface PostgresUrls {
  primaryUrl: string;
  replicaUrl?: string | undefined;
}

export interface TestDatabase {
  name: string;
  /** The new database on the primary. */
  url: string;
  /** The same database on the replica, or undefined when there is no replica. */
  replicaUrl: string | undefined;
  /** Resolves once the replica has replayed everything written so far (no-op without a replica). */
  waitForReplicaCatchUp(options?: { timeoutMs?: number }): Promise<void>;
  /** Drops the database, closing any connections still open to it. */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, so test files can run in parallel on the same servers.
 * Resolves only once the database can be connected to on the replica too: CREATE DATABASE reaches the
 * replica through WAL like any other write.
 */
export async function createTestDatabase(target?: PostgresUrls, { timeoutMs = 30_000 } = {}): Promise<TestDatabase> {
  const { primaryUrl, replicaUrl } = target ?? toUrls();
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withPgClient(primaryUrl, (client) => client.query(`create database ${name}`));

  const database: TestDatabase = {
    name,
    url: withDatabase(primaryUrl, name),
    replicaUrl: replicaUrl && withDatabase(replicaUrl, name),
    waitForReplicaCatchUp: async (options) => {
      if (replicaUrl) await waitForReplicaCatchUp({ primaryUrl, replicaUrl }, options);
    },
    drop: async () => {
      await withPgClient(primaryUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
  if (database.replicaUrl) {
    const url = database.replicaUrl;
    await waitUntil(() => withPgClient(url, async () => true), {
      description: `database ${name} to appear on the replica`,
      timeoutMs,
    });
  }
  return database;
}

function toUrls(): PostgresUrls {
  const services = testServices();
  return { primaryUrl: services.databaseUrl, replicaUrl: services.replicaUrl };
}
