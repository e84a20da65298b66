import { mkdir } from 'node:fs/promises';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrate';
import { PGliteDialect } from './pglite-dialect';
import { withPreparedStatements } from './prepared-statements';
import { asReadonly } from './readonly-kysely';
import type { ReadonlyKysely } from './readonly-kysely';
import { createReplicaRouter, parseLsn } from './replica-router';
import type { Lsn, ReplicaHealth, RoutedTarget } from './replica-router';
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
  /** A replica further behind than this is skipped (reads go elsewhere). Default 5. */
  replicaMaxLagSeconds?: number;
  /** How often replica positions are probed. Default 500. */
  replicaProbeIntervalMs?: number;
  logger?: DatabaseLogger;
}

export type DatabaseConfig = PGliteDatabaseConfig | PostgresDatabaseConfig;

export interface DatabasePools {
  primary: pg.Pool;
  replicas: pg.Pool[];
}

/** Where reads go (DESIGN.md, "Reads and replicas"). */
export interface ReadRouting {
  /**
   * A read target for a caller whose own writes must be visible: a healthy replica that has replayed at
   * least `minLsn` (the primary's position after that write), else the primary.
   */
  pick(minLsn?: Lsn): RoutedTarget<ReadonlyKysely<DB>>;
  /** The primary's current WAL position (undefined when there is no replication, as on PGlite). */
  primaryLsn(): Promise<Lsn | undefined>;
  /** Every replica's last probed state, for metrics and /readyz. */
  health(): ReplicaHealth[];
}

export interface Database {
  /** Writes, and reads that must see them. */
  primary: Kysely<DB>;
  /**
   * History, search and lists, without a read-your-writes bound: each top-level call goes to the next
   * healthy replica, or to the primary when none is healthy. May lag the primary.
   */
  replica: ReadonlyKysely<DB>;
  reads: ReadRouting;
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
  // Loaded here, not at the top: PGlite (PostgreSQL compiled to WASM) is only needed in embedded mode,
  // and a cluster node should not pay for loading it at every start.
  const { PGlite } = await import('@electric-sql/pglite').catch((err: unknown) => {
    // The container image leaves PGlite out (deploy/Dockerfile): a container runs against PostgreSQL.
    throw new Error('embedded mode needs @electric-sql/pglite, which this installation does not have: set DATABASE_URL to a PostgreSQL database', {
      cause: err,
    });
  });
  const pglite = await PGlite.create({ dataDir: config.dataDir, parsers: pgliteParsers });
  const primary = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  // One embedded instance has no replica: the same Kysely (hence the same session lock) serves reads,
  // narrowed to read-only at the type level.
  const target: RoutedTarget<ReadonlyKysely<DB>> = { db: asReadonly(primary), name: 'primary', role: 'primary' };
  return {
    kind: 'pglite',
    primary,
    replica: target.db,
    reads: { pick: () => target, primaryLsn: async () => undefined, health: () => [] },
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

  const primary = new Kysely<DB>({ dialect: new PostgresDialect({ pool: withPreparedStatements(primaryPool) }) });
  // A replica that refuses connections (stopped, restarting) must not fail reads: its checkout falls back
  // to a primary connection, and the router stops sending it reads until a probe finds it well.
  let markDown: (name: string) => void = () => {};
  const replicas = replicaPools.map(
    (pool, index) =>
      new Kysely<DB>({
        dialect: new PostgresDialect({
          pool: {
            async connect() {
              try {
                return await pool.connect();
              } catch (err) {
                logger.error({ err, replica: `replica-${index}` }, 'replica connection failed; reading from the primary');
                markDown(`replica-${index}`);
                return primaryPool.connect();
              }
            },
            end: () => pool.end(),
            options: pool.options,
          },
        }),
      }),
  );

  const probes = replicaPools.map((pool) => new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }));

  const router = createReplicaRouter<ReadonlyKysely<DB>>({
    primary: asReadonly(primary),
    replicas: replicas.map((db, index) => ({
      name: `replica-${index}`,
      db: asReadonly(db),
      probe: {
        // Straight to the replica's own pool: through `db`, a refused connection would fall back to the
        // primary, the probe would read the primary's position and mark a stopped replica up again.
        async replayPosition() {
          // On a server that is not a standby, replay LSN is null: its own write position stands in.
          const { rows } = await sql<{ lsn: string; age: number | null }>`
            select coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text as lsn,
                   extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as age`.execute(probes[index]!);
          const row = rows[0]!;
          return { lsn: parseLsn(row.lsn), lastReplayAgeSeconds: row.age };
        },
      },
    })),
    primaryLsn: async () => {
      const { rows } = await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(primary);
      return parseLsn(rows[0]!.lsn);
    },
    maxLagSeconds: config.replicaMaxLagSeconds ?? 5,
    probeIntervalMs: config.replicaProbeIntervalMs ?? 500,
    // The message only: under a storm a slow probe is expected, and a stack per probe would flood the log.
    onProbeError: (name, err) => logger.error({ err: err instanceof Error ? err.message : String(err), target: name }, 'replica probe failed; reads skip it'),
  });

  markDown = (name) => router.markDown(name);

  return {
    kind: 'postgres',
    primary,
    replica: replicas.length === 0 ? asReadonly(primary) : routedReplica(router.pick.bind(router)),
    reads: { pick: (minLsn) => router.pick(minLsn), primaryLsn: () => router.primaryLsn(), health: () => router.health() },
    migrate: () => migrateToLatest(primary),
    // Kysely.destroy() ends the pool it was given.
    close: once(async () => {
      router.close();
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
  // pg-pool listens for errors only on idle clients. A client that is checked out (a query running, or a
  // transaction between statements) whose server goes away also emits 'error' — besides failing its query,
  // which the caller handles — and with no listener that would end the process. So every client gets one
  // for its whole life.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger.error({ err: err.message, role }, 'database connection lost'));
  });
  return pool;
}

/**
 * A read-only handle whose every top-level call goes to the target the router picks then. Each call builds
 * its query on one target, so a query never mixes pools.
 */
function routedReplica(pick: () => RoutedTarget<ReadonlyKysely<DB>>): ReadonlyKysely<DB> {
  const handle = new Proxy({} as ReadonlyKysely<DB>, {
    get(_target, property) {
      const db = pick().db;
      const value = Reflect.get(db, property, db) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(db) : value;
    },
  });
  return handle;
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
