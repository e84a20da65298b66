import type { Kysely } from 'kysely';
import type { ReadonlyKysely as KyselyReadonly } from 'kysely/readonly';

/**
 * The replica handle: reads only, checked by the compiler.
 *
 * Built on Kysely's own `kysely/readonly` type (0.29+), which already restricts `with(...)` to read-only
 * CTEs, transactions to `read only`, and makes `sql\`...\`.execute(replica)` fail to compile. Kysely keeps
 * `insertInto`/`updateTable`/... callable there (they return an error type, so only the next chained call
 * fails); we remove them, so `replica.insertInto(...)` itself is the compile error. `destroy` is removed
 * too: the replica may be the primary's own pool (or PGlite instance), and `Database.close()` owns
 * the life cycle.
 */
export type ReadonlyKysely<DB> = Omit<
  KyselyReadonly<DB>,
  | 'insertInto'
  | 'updateTable'
  | 'deleteFrom'
  | 'mergeInto'
  | 'replaceInto'
  | 'schema'
  | 'getExecutor'
  | 'executeQuery'
  | 'destroy'
>;

/** Type-level narrowing only: the runtime object is the same Kysely instance. */
export function asReadonly<DB>(db: Kysely<DB>): ReadonlyKysely<DB> {
  return db as unknown as ReadonlyKysely<DB>;
}
