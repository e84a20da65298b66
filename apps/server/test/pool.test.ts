import { createDatabase, sql, type Database } from '@chat/db';
import { createTestDatabase, waitUntil, type TestDatabase } from '@chat/testkit';

// The primary pool under a herd (DESIGN.md: "database pools are capped with a connection timeout"): more
// concurrent queries than connections queue in the pool instead of opening connections or failing, the
// server never sees more than the cap (pg_stat_activity, read from a separate connection), and a query
// that cannot get a connection within the timeout fails with the pool's timeout, after which the pool
// still serves.

const CAP = 3;

/** A held connection: a transaction that stays open until released; `ready` once it has run a statement. */
function hold(db: Database): { release: () => void; done: Promise<void>; ready: Promise<void> } {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ready = new Promise<void>((r) => (started = r));
  const done = db.primary.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx);
    started();
    await gate;
  });
  return { release, done, ready };
}

describe('database pool cap', () => {
  let pg: TestDatabase;
  let monitor: Database;
  const held: ReturnType<typeof hold>[] = [];
  let db: Database | undefined;

  /**
   * Client connections to the test database, other than the monitor's own. Only client backends: an
   * autovacuum worker on the fresh database is listed with its name too (seen once in CI: 4 against a cap
   * of 3 while the pool itself never held more than 3).
   */
  async function serverConnections(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = ${pg.name} and pid <> pg_backend_pid() and backend_type = 'client backend'`.execute(monitor.primary);
    return rows[0]!.n;
  }

  beforeAll(async () => {
    pg = await createTestDatabase();
    monitor = await createDatabase({ kind: 'postgres', primaryUrl: pg.url, poolMax: 1 });
  });

  beforeEach(async () => {
    // Each test starts with no other connection to the database than the monitor's.
    await waitUntil(async () => (await serverConnections()) === 0, { description: 'earlier pools to disconnect', timeoutMs: 10_000 });
  });

  afterEach(async () => {
    // Even when an assertion failed: held transactions end, so the pool can close.
    for (const h of held.splice(0)) {
      h.release();
      await h.done.catch(() => {});
    }
    await db?.close();
    db = undefined;
  });

  afterAll(async () => {
    await monitor.close();
    await pg.drop();
  });

  test('a saturated pool queues the excess, never opens more than its cap, and completes every query', async () => {
    db = await createDatabase({ kind: 'postgres', primaryUrl: pg.url, poolMax: CAP, connectionTimeoutMs: 30_000 });
    const pool = db.pools!.primary;

    held.push(...Array.from({ length: CAP }, () => hold(db!)));
    // Saturated once every held connection is established and in use (a client still connecting already
    // counts in totalCount, but not yet on the server).
    await Promise.all(held.map((h) => h.ready));
    expect(pool.totalCount === CAP && pool.idleCount === 0).toBe(true);

    const queries = Array.from({ length: 40 }, (_, i) => sql<{ i: number }>`select ${i}::int as i, pg_sleep(0.01)`.execute(db!.primary));
    await waitUntil(async () => pool.waitingCount === 40, { description: '40 queries waiting for a connection', timeoutMs: 10_000 });
    expect(pool.totalCount).toBe(CAP);
    expect(await serverConnections()).toBe(CAP);

    // Let them through, sampling both sides until every query has answered.
    let settled = false;
    const all = Promise.all(queries).finally(() => (settled = true));
    for (const h of held) h.release();
    let samples = 0;
    let maxServer = 0;
    let maxPool = 0;
    const deadline = Date.now() + 30_000;
    while (!settled && Date.now() < deadline && samples < 10_000) {
      maxPool = Math.max(maxPool, pool.totalCount);
      maxServer = Math.max(maxServer, await serverConnections());
      samples++;
    }
    const results = await all;
    await Promise.all(held.map((h) => h.done));

    expect(results.map((r) => r.rows[0]!.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(samples).toBeGreaterThan(0);
    expect(maxPool).toBeLessThanOrEqual(CAP);
    expect(maxServer).toBeLessThanOrEqual(CAP);
    expect(pool.waitingCount).toBe(0);
  });

  test('a query that cannot get a connection in time fails with the pool timeout; the pool then serves again', async () => {
    // Long enough for the two held connections to be opened on a busy machine.
    db = await createDatabase({ kind: 'postgres', primaryUrl: pg.url, poolMax: 2, connectionTimeoutMs: 2000 });
    held.push(hold(db), hold(db));
    const pool = db.pools!.primary;
    await Promise.all(held.map((h) => h.ready));
    expect(pool.totalCount === 2 && pool.idleCount === 0).toBe(true);

    await expect(sql`select 1`.execute(db.primary)).rejects.toThrow(/timeout exceeded when trying to connect/);
    expect(await serverConnections()).toBe(2);

    for (const h of held) h.release();
    await Promise.all(held.map((h) => h.done));
    const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(db.primary);
    expect(rows).toEqual([{ ok: 1 }]);
  });

  test('the pool size is capped at 50 whatever is configured', async () => {
    db = await createDatabase({ kind: 'postgres', primaryUrl: pg.url, poolMax: 500 });
    expect(db.pools!.primary.options.max).toBe(50);
  });
});
