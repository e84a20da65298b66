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

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.#dir)).filter((file) => file.endsWith('.sql')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await readFile(path.join(this.#dir, file), 'utf8');
      migrations[file.slice(0, -'.sql'.length)] = {
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
  const migrator = new Migrator({
    // The migrator only touches its own bookkeeping tables and raw SQL; it does not need our DB type.
    db: db as unknown as Kysely<unknown>,
    provider: new SqlFileMigrationProvider(options.migrationsDir ?? defaultMigrationsDir()),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    const name = failed ? `migration ${failed.migrationName}` : 'migrations';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} failed: ${reason}`, { cause: error });
  }
}
