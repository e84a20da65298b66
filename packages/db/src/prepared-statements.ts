import { sql, type PostgresPool, type PostgresPoolClient, type RawBuilder } from 'kysely';
import type pg from 'pg';

/**
 * A statement whose SQL starts with `/* prepared: name *\/` (or `select /* prepared: name *\/`, what Kysely's
 * `modifyFront(prepared(name))` makes of a query builder's select) runs as the named prepared statement `name`
 * on PostgreSQL: each connection parses it once, and once PostgreSQL settles on a generic plan (after five
 * executions) only binds and executes it. Everything else (and every statement on PGlite, where the mark is
 * just a comment) runs as Kysely sends it, an unnamed statement parsed and planned on every call.
 *
 * Why by hand: Kysely has no way to name a statement, and node-postgres prepares only what is named. Only
 * a statement a node runs many times a second is worth a mark (the batch send, and the reads every
 * reconnection makes): on a one-message transaction the parse and plan of the unnamed call were about a fifth
 * of PostgreSQL's CPU for it, and planning was two thirds of the handshake's session read (docs/performance.md,
 * "The send as a named statement", "Reconnection's reads as named statements"). Marking everything would not
 * do: a name stays prepared on every connection for the connection's life, so only a fixed, small set of
 * statements may carry one.
 */
const MARK = /^(?:select )?\/\* prepared: ([a-z][a-z0-9_]*) \*\//;
const NAME = /^[a-z][a-z0-9_]*$/;

/** The prepared statement's name if `text` carries the mark, else undefined. */
export function preparedStatementName(text: string): string | undefined {
  return MARK.exec(text)?.[1];
}

/**
 * The mark for a query builder's select: `db.selectFrom(…).modifyFront(prepared('name'))`. The query's SQL
 * must be the same on every call (no `in (…)` lists that grow with the input: use `= any(array)`), since a
 * connection holds one text per name; node-postgres refuses a second text under a name it has prepared.
 */
export function prepared(name: string): RawBuilder<unknown> {
  if (!NAME.test(name)) throw new Error(`not a prepared statement name: ${name}`);
  return sql.raw(`/* prepared: ${name} */`);
}

/**
 * PostgreSQL's answer when a migration changed what a prepared statement returns (a column's type, a function's
 * result): the statement cannot run on this connection any more, and it was refused before it ran.
 */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

/**
 * `pool` as Kysely's PostgresDialect sees it, with marked statements sent as named prepared statements.
 *
 * After a migration that changes a marked statement's result type (a rolling deploy: the new node migrates,
 * the old ones still hold the statement prepared), PostgreSQL refuses the statement on every connection that
 * prepared it. The refused call runs again once, unnamed (nothing of it ran), and the connection is dropped
 * when released, so the pool's next connection prepares the new shape: no failed handshake or send waits for
 * the node's restart. Inside an explicit transaction the retry fails as the transaction is already aborted.
 */
export function withPreparedStatements(pool: Pick<pg.Pool, 'connect' | 'end' | 'options'>): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let stale = false;
      return {
        // Kysely calls query(sql, parameters); the cursor overload is used only with a `cursor` in the dialect's
        // config, which this project does not set.
        query: ((text: string, values: readonly unknown[]) => {
          const name = preparedStatementName(text);
          if (name === undefined) return client.query(text, values as unknown[]);
          return client.query({ name, text, values: values as unknown[] }).catch((err: unknown) => {
            if (!isStalePlan(err)) throw err;
            stale = true;
            return client.query(text, values as unknown[]);
          });
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy === true || stale),
      };
    },
    end: () => pool.end(),
    options: pool.options,
  };
}
