import { createDatabase, sql, type Database } from '@chat/db';

/** A one-connection handle to count rows of `messages`: the database's own view of what was persisted. */
export interface MessageCounter {
  count(): Promise<number>;
  close(): Promise<void>;
}

export async function openMessageCounter(databaseUrl: string, log: (m: string) => void): Promise<MessageCounter> {
  let closing = false;
  const db: Database = await createDatabase({
    kind: 'postgres',
    primaryUrl: databaseUrl,
    poolMax: 1,
    // pg's pool.end() resolves before the socket is closed, so the forced DROP DATABASE that follows may
    // terminate it: expected then, worth reporting at any other time.
    logger: { error: (obj, msg) => closing || log(`counter database error: ${msg ?? ''} ${String((obj as { err?: unknown }).err ?? obj)}`) },
  });
  return {
    async count() {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from messages`.execute(db.primary);
      return rows[0]!.n;
    },
    close: () => {
      closing = true;
      return db.close();
    },
  };
}
