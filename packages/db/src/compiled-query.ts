import type { CompiledQuery, Kysely } from 'kysely';
import type { DB } from './schema';

const SLOT = Symbol('compiledQuery argument');

interface Slot {
  readonly [SLOT]: number;
}

function slotOf(value: unknown): number {
  return typeof value === 'object' && value !== null && SLOT in value ? (value as Slot)[SLOT] : -1;
}

/** A query builder (its `compile()`) or an `sql` template (its `compile(db)`). */
interface Buildable<R> {
  compile(db: Kysely<DB>): CompiledQuery<R>;
}

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** For each parameter of the query: the argument that fills it, or -1 for a constant of the query. */
  slots: number[];
}

/**
 * A query that Kysely builds and compiles once per database handle and then runs with each call's arguments.
 *
 * Kysely builds a query anew on every call (immutable operation nodes, frozen at each step, and a compiler
 * pass over them); for the reads every reconnection makes that was ~8 % of a node's CPU per handshake
 * (docs/performance.md, "The handshake's queries compiled once"). `build` runs once per handle with a
 * placeholder for each argument; each placeholder must reach the compiled query as a parameter (a value in
 * a `where`, a `${…}` in `sql`), not be computed with or inspected, since it is not the value. A call then
 * only puts its arguments in the placeholders' places and executes the same SQL. Why by hand: Kysely has no
 * such API (its docs show compiling once with fixed values); this is the least that reuses its builders.
 */
export function compiledQuery<Args extends unknown[], R>(
  arity: Args['length'],
  build: (db: Kysely<DB>, ...args: Args) => Buildable<R>,
): (db: Kysely<DB>, ...args: Args) => Promise<R[]> {
  // Per handle: the SQL depends on the handle's dialect (PostgreSQL, PGlite) and plugins.
  const byHandle = new WeakMap<object, Compiled<R>>();
  return async (db, ...args) => {
    let compiled = byHandle.get(db);
    if (!compiled) {
      compiled = compile(db, arity, build);
      byHandle.set(db, compiled);
    }
    const { query, slots } = compiled;
    const parameters = query.parameters.map((value, i) => (slots[i]! >= 0 ? args[slots[i]!] : value));
    return (await db.executeQuery<R>({ ...query, parameters })).rows;
  };
}

function compile<Args extends unknown[], R>(
  db: Kysely<DB>,
  arity: number,
  build: (db: Kysely<DB>, ...args: Args) => Buildable<R>,
): Compiled<R> {
  const placeholders = Array.from({ length: arity }, (_, i): Slot => ({ [SLOT]: i }));
  const query = build(db, ...(placeholders as unknown as Args)).compile(db);
  const slots = query.parameters.map(slotOf);
  for (let i = 0; i < arity; i++) {
    if (!slots.includes(i)) throw new Error(`compiledQuery: argument ${i} does not reach the query as a parameter`);
  }
  return { query, slots };
}
