import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrate';
import { PGliteDialect } from './pglite-dialect';
import { asReadonly } from './readonly-kysely';
import type { ReadonlyKysely } from './readonly-kysely';
import { createRoundRobinRouter } from './replica-router';
import type { DB } from './schema';
import { pgTypes, pgliteParsers } from './type-parsers';

export interface DatabaseLogger {
  error(obj: unknown, msg?: string): void;
}

export interface PGliteDatabaseConfig {
  kind: 'pglite';
  /** A directory for the data files (created if missing); undefined = in memory. */
  dataDir?: string;
  logger?: DatabaseLogger;
}

export interface PostgresDatabaseConfig {
  kind: 'postgres';
  primaryUrl: string;
  /** Streaming replicas for reads; none = reads go to the primary. */
  replicaUrls?: string[];
  /** Connections per pool; default 20, capped at 50 (DESIGN.md: at most N x 50 connections per node). */
  poolMax?: number;
  /** How long to wait for a free or new connection; default 5000. */
  connectionTimeoutMs?: number;
  /** Server-side statement_timeout for every connection; default 10000. */
  statementTimeoutMs?: number;
  logger?: DatabaseLogger;
}

export type DatabaseConfig = PGliteDatabaseConfig | PostgresDatabaseConfig;

export interface DatabasePools {
  primary: pg.Pool;
  replicas: pg.Pool[];
}

export interface Database {
  /** Writes, and reads that must see them. */
  primary: Kysely<DB>;
  /** History, search and lists; may lag the primary. With several replicas, each read picks one. */
  replica: ReadonlyKysely<DB>;
  kind: 'pglite' | 'postgres';
  /** Applies pending migrations on the primary (advisory-locked, safe from many nodes at once). */
  migrate(): Promise<void>;
  /** Ends every pool / closes the PGlite instance. Idempotent. */
  close(): Promise<void>;
  /** The raw pools (postgres only), e.g. for pool metrics. */
  pools?: DatabasePools;
}

export const DEFAULT_POOL_MAX = 20;
export const POOL_MAX_CAP = 50;

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === 'pglite' ? createPGliteDatabase(config) : createPostgresDatabase(config);
}

async function createPGliteDatabase(config: PGliteDatabaseConfig): Promise<Database> {
  if (config.dataDir !== undefined) await mkdir(config.dataDir, { recursive: true });
  const pglite = await PGlite.create({ dataDir: config.dataDir, parsers: pgliteParsers });
  const primary = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  // One embedded instance has no replica: the same Kysely (hence the same session lock) serves reads,
  // narrowed to read-only at the type level.
  return {
    kind: 'pglite',
    primary,
    replica: asReadonly(primary),
    migrate: () => migrateToLatest(primary),
    close: once(() => primary.destroy()),
  };
}

function createPostgresDatabase(config: PostgresDatabaseConfig): Database {
  const logger = config.logger ?? consoleLogger;
  const primaryPool = createPool(config, config.primaryUrl, 'primary', logger);
  const replicaPools = (config.replicaUrls ?? []).map((url, index) =>
    createPool(config, url, `replica-${index}`, logger),
  );

  const primary = new Kysely<DB>({ dialect: new PostgresDialect({ pool: primaryPool }) });
  const replicas = replicaPools.map((pool) => new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }));

  let replica: ReadonlyKysely<DB>;
  if (replicas.length === 0) {
    replica = asReadonly(primary);
  } else if (replicas.length === 1) {
    replica = asReadonly(replicas[0] as Kysely<DB>);
  } else {
    replica = routedReplica(replicas);
  }

  return {
    kind: 'postgres',
    primary,
    replica,
    migrate: () => migrateToLatest(primary),
    // Kysely.destroy() ends the pool it was given.
    close: once(async () => {
      await Promise.all([primary, ...replicas].map((db) => db.destroy()));
    }),
    pools: { primary: primaryPool, replicas: replicaPools },
  };
}

function createPool(config: PostgresDatabaseConfig, url: string, role: string, logger: DatabaseLogger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: Math.min(Math.max(1, config.poolMax ?? DEFAULT_POOL_MAX), POOL_MAX_CAP),
    connectionTimeoutMillis: config.connectionTimeoutMs ?? 5_000,
    statement_timeout: config.statementTimeoutMs ?? 10_000,
    types: pgTypes,
  });
  // An idle client whose server goes away (restart, failover) emits 'error' on the pool; without a
  // listener that is an uncaught exception and takes the whole node down. The pool drops the client and
  // the next checkout reconnects.
  pool.on('error', (err) => {
    logger.error({ err, role }, 'idle database client error');
  });
  return pool;
}

/**
 * A read-only handle whose every top-level call goes to the next replica. Each call builds its query on
 * one replica, so a query never mixes pools.
 */
function routedReplica(replicas: Kysely<DB>[]): ReadonlyKysely<DB> {
  const router = createRoundRobinRouter(replicas);
  const first = replicas[0] as Kysely<DB>;
  const handle = new Proxy(first, {
    get(_target, property) {
      const db = router.pick();
      const value = Reflect.get(db, property, db) as unknown;
      return typeof value === 'function' ? value.bind(db) : value;
    },
  });
  return asReadonly(handle);
}

const consoleLogger: DatabaseLogger = {
  error(obj, msg) {
    console.error(msg ?? 'database error', obj);
  },
};

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= fn());
}
