import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * `db/migrations` at the repository root, found from this file (packages/db/src), so it works from any
 * working directory; `CHAT_MIGRATIONS_DIR` overrides it (e.g. a bundled deployment).
 */
export function defaultMigrationsDir(): string {
  return process.env.CHAT_MIGRATIONS_DIR ?? path.resolve(__dirname, '../../../db/migrations');
}

/**
 * Each `NNNN_name.sql` file is one migration, named after the file without `.sql`; Kysely applies them
 * in name order. There is no `down`: we roll forward with a new migration.
 */
export class SqlFileMigrationProvider implements MigrationProvider {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The migrations' names, in the order they apply. */
  async names(): Promise<string[]> {
    const files = (await readdir(this.#dir)).filter((file) => file.endsWith('.sql')).sort();
    return files.map((file) => file.slice(0, -'.sql'.length));
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const name of await this.names()) {
      const text = await readFile(path.join(this.#dir, `${name}.sql`), 'utf8');
      migrations[name] = {
        // Run as one string: the dialects send parameterless SQL through the simple protocol, which
        // accepts several statements. Kysely wraps each migration in a transaction on PostgreSQL.
        up: async (db: Kysely<unknown>) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

/**
 * Applies every pending migration. Safe to call from many nodes at start-up at once: Kysely's migrator
 * holds a PostgreSQL advisory lock while it works, so one node migrates and the others then find
 * nothing to do.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: { migrationsDir?: string } = {},
): Promise<void> {
  const provider = new SqlFileMigrationProvider(options.migrationsDir ?? defaultMigrationsDir());
  // The migrator only touches its own bookkeeping tables and raw SQL; it does not need our DB type.
  const untyped = db as unknown as Kysely<unknown>;
  if (await isUpToDate(untyped, await provider.names())) return;
  const migrator = new Migrator({ db: untyped, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    const name = failed ? `migration ${failed.migrationName}` : 'migrations';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} failed: ${reason}`, { cause: error });
  }
}

/**
 * The migrations of `migrationsDir` not applied to the database yet (every one, on a new database). For a
 * node that may not migrate (MIGRATE_ON_START=false: it connects as a role that cannot change the schema),
 * to refuse to start on a database that is behind instead of failing on its first query.
 */
export async function pendingMigrations<DB>(db: Kysely<DB>, options: { migrationsDir?: string } = {}): Promise<string[]> {
  const names = await new SqlFileMigrationProvider(options.migrationsDir ?? defaultMigrationsDir()).names();
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db as unknown as Kysely<unknown>);
    const applied = new Set(rows.map((row) => row.name));
    return names.filter((name) => !applied.has(name));
  } catch {
    return names; // a new database: no kysely_migration table yet
  }
}

/**
 * Whether exactly these migrations have been applied. Every node start asks, and the answer is almost
 * always yes: one query instead of the migrator's catalog introspection, lock and bookkeeping reads
 * (about ten round trips and ~100 ms of a node's start, serialised by the lock when nodes start together).
 * Anything else — no bookkeeping table yet, a migration missing, one this node does not know — is left to
 * the migrator, which applies or reports it.
 */
async function isUpToDate(db: Kysely<unknown>, names: string[]): Promise<boolean> {
  let applied: Set<string>;
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    applied = new Set(rows.map((row) => row.name));
  } catch {
    return false; // a new database: no kysely_migration table yet
  }
  return applied.size === names.length && names.every((name) => applied.has(name));
}
