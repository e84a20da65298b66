import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * A statement whose SQL starts with `/* prepared: name *\/` runs as the named prepared statement `name` on
 * PostgreSQL: each connection parses and plans it once, then only binds and executes it. Everything else
 * (and every statement on PGlite, where the mark is just a comment) runs as Kysely sends it, an unnamed
 * statement parsed on every call.
 *
 * Why by hand: Kysely has no way to name a statement, and node-postgres prepares only what is named. Only
 * a statement a node runs many times a second is worth a mark (today the batch send): on a one-message
 * transaction the parse and plan of the unnamed call were about a fifth of PostgreSQL's CPU for it
 * (docs/performance.md, "The send as a named statement"). Marking everything would not do: a name stays
 * prepared on every connection for the connection's life, so only a fixed, small set of statements may carry one.
 */
const MARK = /^\/\* prepared: ([a-z][a-z0-9_]*) \*\//;

/** The prepared statement's name if `text` carries the mark, else undefined. */
export function preparedStatementName(text: string): string | undefined {
  return MARK.exec(text)?.[1];
}

/** `pool` as Kysely's PostgresDialect sees it, with marked statements sent as named prepared statements. */
export function withPreparedStatements(pool: Pick<pg.Pool, 'connect' | 'end' | 'options'>): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        // Kysely calls query(sql, parameters); the cursor overload is used only with a `cursor` in the dialect's
        // config, which this project does not set.
        query: ((text: string, values: readonly unknown[]) => {
          const name = preparedStatementName(text);
          return name === undefined ? client.query(text, values as unknown[]) : client.query({ name, text, values: values as unknown[] });
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
    options: pool.options,
  };
}
