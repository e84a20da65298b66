import path from 'node:path';
import { createDatabase, migrateToLatest, pendingMigrations } from '@chat/db';

/**
 * `pnpm migrate` (and the image's `node apps/server/dist/migrate.js`): applies the pending migrations of
 * db/migrations and exits, 0 when the database is up to date. Run ahead of a rollout, as the role that owns
 * the schema; the nodes may then connect as a role that cannot change it (MIGRATE_ON_START=false). Reads
 * only DATABASE_URL (PostgreSQL) or, without it, DATA_DIR (the embedded PGlite data), so it needs none of
 * the node's secrets. Safe to run while nodes run and from several places at once (the migrator's lock).
 */
async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  const db = await createDatabase(
    url ? { kind: 'postgres', primaryUrl: url, poolMax: 1 } : { kind: 'pglite', dataDir: path.resolve(process.env.DATA_DIR ?? '.data') },
  );
  try {
    const pending = await pendingMigrations(db.primary);
    if (pending.length === 0) {
      console.log('migrate: the database is up to date');
      return 0;
    }
    console.log(`migrate: applying ${pending.join(', ')}`);
    await migrateToLatest(db.primary);
    console.log(`migrate: applied ${pending.length} migration(s); the database is up to date`);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`migrate: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
