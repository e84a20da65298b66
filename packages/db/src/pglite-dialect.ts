// A hand-written Kysely dialect for PGlite.
//
// Why not Kysely's own `PGliteDialect` (kysely >= 0.29 ships one) or `kysely-pglite` /
// `kysely-pglite-dialect` from npm: we cannot add dependencies right now, and the built-in one runs every
// query with `pglite.query()`, i.e. the extended protocol, which accepts one statement per call. Our
// migrations are plain SQL files executed as one string, so parameterless queries must go through
// `pglite.exec()` (simple protocol, several statements). The rest is the smallest driver that is correct:
// PGlite is a single backend session, so the driver lends that one connection to one consumer at a time
// (a FIFO lock per PGlite instance), and BEGIN..COMMIT run on it like on any pg connection.
import type { PGlite, Results } from '@electric-sql/pglite';
import {
  CompiledQuery,
  IdentifierNode,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  createQueryId,
} from 'kysely';
import type {
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { ExclusiveLock } from './exclusive-lock';

export interface PGliteDialectConfig {
  /** The instance to use. `Kysely.destroy()` closes it. */
  pglite: PGlite;
}

export class PGliteDialect implements Dialect {
  readonly #config: PGliteDialectConfig;

  constructor(config: PGliteDialectConfig) {
    this.#config = config;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#config.pglite);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}

// The lock belongs to the PGlite instance, not to a driver: two Kysely instances over the same PGlite
// (e.g. a second dialect someone creates for a read-only view) share one session, so they must share
// one lock, or a read could run inside someone else's open transaction.
const locks = new WeakMap<PGlite, ExclusiveLock>();

function lockFor(pglite: PGlite): ExclusiveLock {
  let lock = locks.get(pglite);
  if (!lock) {
    lock = new ExclusiveLock();
    locks.set(pglite, lock);
  }
  return lock;
}

class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #lock: ExclusiveLock;
  readonly #connection: PGliteConnection;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#lock = lockFor(pglite);
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    if (this.#pglite.closed) throw new Error('PGlite instance is already closed');
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    this.#lock.release();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
    }
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(): Promise<void> {
    // PostgreSQL answers COMMIT with a ROLLBACK tag when an earlier error aborted the transaction; the
    // caller must hear that its writes are gone.
    const [result] = await this.#pglite.exec('commit');
    if (result?.command === 'ROLLBACK') {
      throw new Error('transaction was aborted by an earlier error and has been rolled back');
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('savepoint', savepointName), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('rollback to', savepointName), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('release', savepointName), createQueryId()));
  }

  async destroy(): Promise<void> {
    // Wait for whoever holds the session (e.g. a transaction finishing) before pulling it away.
    await this.#lock.acquire();
    try {
      if (!this.#pglite.closed) await this.#pglite.close();
    } finally {
      this.#lock.release();
    }
  }
}

function savepointCommand(command: string, savepointName: string): RawNode {
  // IdentifierNode quotes the name, as Kysely's own drivers do.
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(savepointName)]);
}

const DML_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result =
      compiledQuery.parameters.length === 0
        ? lastOf(await this.#pglite.exec(compiledQuery.sql))
        : await this.#pglite.query<Record<string, unknown>>(compiledQuery.sql, [...compiledQuery.parameters]);
    return toQueryResult<R>(result);
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGliteDialect does not support streaming queries (stream()); use execute() with a limit');
  }
}

function lastOf(results: Results[]): Results | undefined {
  return results[results.length - 1];
}

function toQueryResult<R>(result: Results | undefined): QueryResult<R> {
  if (!result) return { rows: [] };
  // Like Kysely's pg driver: numAffectedRows only for statements that change rows, from the per-statement
  // count (PGlite's affectedRows is cumulative over a multi-statement exec).
  const numAffectedRows =
    result.command !== undefined && DML_COMMANDS.has(result.command)
      ? BigInt(result.rowCount ?? result.affectedRows ?? 0)
      : undefined;
  return numAffectedRows === undefined
    ? { rows: result.rows as R[] }
    : { rows: result.rows as R[], numAffectedRows };
}
