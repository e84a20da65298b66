// One contract, every implementation of `Database`: embedded PGlite and PostgreSQL primary + streaming
// replica (the real servers started by @chat/testkit's jest global setup). Each implementation gets one
// instance for the whole block: a PGlite instance costs seconds to start.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, waitUntil } from '@chat/testkit';
import type { TestDatabase } from '@chat/testkit';
import { compiledQuery, createDatabase, defaultMigrationsDir, migrateToLatest, prepared as markPrepared, preparedStatementName, sql } from '../src/index';
import type { Database, DatabaseConfig } from '../src/index';

interface Target {
  name: string;
  /** PGlite is one session: concurrent transactions must run one after the other. */
  singleSession: boolean;
  /** Statements marked `/* prepared: name *\/` become named prepared statements (PostgreSQL; on PGlite the mark is a comment). */
  preparesMarkedStatements: boolean;
  open(): Promise<{ config: DatabaseConfig; cleanup(): Promise<void>; catchUp(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'pglite (in memory)',
    singleSession: true,
    preparesMarkedStatements: false,
    open: async () => ({ config: { kind: 'pglite' }, cleanup: async () => {}, catchUp: async () => {} }),
  },
  {
    name: 'postgres (primary + replica)',
    singleSession: false,
    preparesMarkedStatements: true,
    open: async () => {
      const testDb: TestDatabase = await createTestDatabase();
      return {
        config: {
          kind: 'postgres',
          primaryUrl: testDb.url,
          replicaUrls: testDb.replicaUrl ? [testDb.replicaUrl] : [],
        },
        cleanup: () => testDb.drop(),
        catchUp: () => testDb.waitForReplicaCatchUp(),
      };
    },
  },
];

describe.each(targets)('Database contract: $name', (target) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  let catchUp: () => Promise<void>;
  let config: DatabaseConfig;
  const userId = randomUUID();

  beforeAll(async () => {
    const opened = await target.open();
    cleanup = opened.cleanup;
    catchUp = opened.catchUp;
    config = opened.config;
    db = await createDatabase(opened.config);
    await db.migrate();
    await db.primary
      .insertInto('users')
      .values({ id: userId, username: `u_${userId.slice(0, 8)}`, display_name: 'Ada', password_hash: 'x' })
      .execute();
  });

  afterAll(async () => {
    await db?.close();
    await cleanup?.();
  });

  async function newRoom(): Promise<string> {
    const id = randomUUID();
    await db.primary.insertInto('rooms').values({ id, name: 'general', type: 'public', created_by: userId }).execute();
    return id;
  }

  async function insertMessage(roomId: string, seq: number, content = 'hello') {
    const id = randomUUID();
    await db.primary
      .insertInto('messages')
      .values({ id, room_id: roomId, seq, sender_id: userId, content })
      .execute();
    return id;
  }

  it('applies the migrations once; a second run is a no-op', async () => {
    const files = (await readdir(defaultMigrationsDir())).filter((file) => file.endsWith('.sql'));
    const applied = () =>
      sql<{ name: string }>`select name from kysely_migration order by name`.execute(db.primary);
    const before = (await applied()).rows.map((row) => row.name);
    expect(before).toEqual(files.map((file) => file.replace(/\.sql$/, '')).sort());

    await db.migrate();
    expect((await applied()).rows.map((row) => row.name)).toEqual(before);

    const tables = await db.primary.introspection.getTables();
    expect(tables.map((table) => table.name)).toEqual(
      expect.arrayContaining([
        'users', 'sessions', 'rooms', 'room_members', 'messages', 'reactions',
        'join_requests', 'bans', 'timeouts', 'audit_log',
      ]),
    );
  });

  it('names the failing migration and leaves the schema untouched', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chat-migrations-'));
    try {
      for (const file of await readdir(defaultMigrationsDir())) {
        await copyFile(path.join(defaultMigrationsDir(), file), path.join(dir, file));
      }
      // Two statements: the first succeeds, the second fails, so the whole migration must roll back.
      await writeFile(path.join(dir, '9999_broken.sql'), 'create table half_done (id int);\nselect * from nowhere;');
      await expect(migrateToLatest(db.primary, { migrationsDir: dir })).rejects.toThrow(/9999_broken/);
      const { rows } = await sql<{ exists: boolean }>`select to_regclass('half_done') is not null as exists`.execute(
        db.primary,
      );
      expect(rows[0]?.exists).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes through the primary and reads through the replica', async () => {
    const roomId = await newRoom();
    const messageId = await insertMessage(roomId, 1, 'replicated');

    const fromPrimary = await db.primary.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(fromPrimary).toMatchObject({ room_id: roomId, seq: 1, content: 'replicated', reply_to: null });
    expect(fromPrimary.created_at).toBeInstanceOf(Date);

    // A streaming replica lags by a little (the router may even read the primary while it probes the
    // replica behind); once it has replayed everything, the read finds the row wherever it is routed.
    await catchUp();
    const fromReplica = await db.replica.selectFrom('messages').select(['id', 'content']).where('id', '=', messageId).executeTakeFirst();
    expect(fromReplica).toEqual({ id: messageId, content: 'replicated' });
  });

  it('enforces one message per (room_id, seq)', async () => {
    const roomId = await newRoom();
    await insertMessage(roomId, 1);
    await expect(insertMessage(roomId, 1)).rejects.toMatchObject({ code: '23505' });
    // A different room may use the same seq.
    await expect(insertMessage(await newRoom(), 1)).resolves.toEqual(expect.any(String));
  });

  it('the send statement refuses an unknown room or sender itself (messages has no foreign keys to them) and stores nothing for them', async () => {
    const roomId = await newRoom();
    const outsider = randomUUID();
    await db.primary.insertInto('users').values({ id: outsider, username: `o_${outsider.slice(0, 8)}`, display_name: 'Out', password_hash: 'x' }).execute();
    await db.primary.insertInto('room_members').values({ room_id: roomId, user_id: userId }).execute();
    const sends = [
      { room: roomId, sender: userId },
      { room: randomUUID(), sender: userId },
      { room: roomId, sender: outsider },
      { room: roomId, sender: randomUUID() },
    ].map((s) => ({ ...s, id: randomUUID() }));
    const { rows } = await sql<{ outcome: string; seq: string | number | null }>`select outcome, seq from chat_send_messages(
      ${sends.map((s) => s.id)}::uuid[], ${sends.map((s) => s.room)}::text[], ${sends.map((s) => s.sender)}::text[],
      ${sends.map(() => 'hi')}::text[], ${sends.map(() => null)}::uuid[])`.execute(db.primary);
    expect(rows.map((r) => r.outcome)).toEqual(['created', 'no_room', 'not_member', 'not_member']);
    const stored = await db.primary.selectFrom('messages').select(['id', 'room_id', 'sender_id']).where('id', 'in', sends.map((s) => s.id)).execute();
    expect(stored).toEqual([{ id: sends[0]!.id, room_id: roomId, sender_id: userId }]);
  });

  it('rolls back a transaction that throws', async () => {
    const roomId = await newRoom();
    await expect(
      db.primary.transaction().execute(async (trx) => {
        await trx.updateTable('rooms').set({ last_seq: 5 }).where('id', '=', roomId).execute();
        await trx.insertInto('messages').values({ id: randomUUID(), room_id: roomId, seq: 5, sender_id: userId, content: 'lost' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');

    const room = await db.primary.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow();
    expect(room.last_seq).toBe(0);
    const count = await db.primary.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow();
    expect(count.n).toBe(0);
  });

  it('allocates seq under concurrent transactions without losing an update (row lock)', async () => {
    const roomId = await newRoom();
    // The group-commit pattern: lock the room row, bump last_seq, insert at the returned seq.
    const send = () =>
      db.primary.transaction().execute(async (trx) => {
        const { last_seq } = await trx
          .updateTable('rooms')
          .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
          .where('id', '=', roomId)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        await trx.insertInto('messages').values({ id: randomUUID(), room_id: roomId, seq: last_seq, sender_id: userId, content: 'x' }).execute();
      });
    await Promise.all(Array.from({ length: 20 }, send));

    const seqs = await db.primary.selectFrom('messages').select('seq').where('room_id', '=', roomId).orderBy('seq').execute();
    expect(seqs.map((row) => row.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  if (target.singleSession) {
    it('never interleaves transactions on the single session (read-modify-write without locks)', async () => {
      const roomId = await newRoom();
      // Deliberately racy on a multi-connection server: read, yield to the event loop, write back + 1.
      // On one session each transaction must hold it from BEGIN to COMMIT, so nothing is lost.
      const bump = (times: number) => async () => {
        for (let i = 0; i < times; i++) {
          await db.primary.transaction().execute(async (trx) => {
            const { last_seq } = await trx.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow();
            await new Promise((resolve) => setImmediate(resolve));
            await trx.updateTable('rooms').set({ last_seq: last_seq + 1 }).where('id', '=', roomId).execute();
          });
        }
      };
      // Reads through the replica handle share the session too; they must wait, not run inside a transaction.
      const reads = Array.from({ length: 10 }, () =>
        db.replica.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow(),
      );
      await Promise.all([bump(20)(), bump(20)(), ...reads]);

      const room = await db.primary.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow();
      expect(room.last_seq).toBe(40);
    });
  }

  it('returns int8 and numeric aggregates as JS numbers, jsonb as objects', async () => {
    const roomId = await newRoom();
    await db.primary.updateTable('rooms').set({ last_seq: 2 ** 40 }).where('id', '=', roomId).execute();
    const room = await db.primary.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow();
    expect(room.last_seq).toBe(2 ** 40);

    await insertMessage(roomId, 7);
    await insertMessage(roomId, 8);
    const stats = await db.primary
      .selectFrom('messages')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('seq').as('total')])
      .where('room_id', '=', roomId)
      .executeTakeFirstOrThrow();
    expect(stats).toEqual({ n: 2, total: 15 });

    const entry = await db.primary
      .insertInto('audit_log')
      .values({ room_id: roomId, actor_id: userId, action: 'room.create', details: JSON.stringify({ name: 'general' }) })
      .returning(['id', 'details', 'created_at'])
      .executeTakeFirstOrThrow();
    expect(typeof entry.id).toBe('number');
    expect(entry.details).toEqual({ name: 'general' });
    expect(entry.created_at).toBeInstanceOf(Date);
  });

  it('reports numAffectedRows as bigint for writes', async () => {
    const roomId = await newRoom();
    const result = await db.primary.updateTable('rooms').set({ name: 'renamed' }).where('id', '=', roomId).executeTakeFirst();
    expect(result.numUpdatedRows).toBe(1n);
  });

  it('finds messages through the GIN full-text index', async () => {
    const roomId = await newRoom();
    await insertMessage(roomId, 1, 'the quick brown fox');
    await insertMessage(roomId, 2, 'lazy dogs sleep');
    const search = (query: string) =>
      db.primary
        .selectFrom('messages')
        .select('content')
        .where('room_id', '=', roomId)
        .where(sql<boolean>`to_tsvector('simple', content) @@ plainto_tsquery('simple', ${query})`)
        .execute();

    expect(await search('brown fox')).toEqual([{ content: 'the quick brown fox' }]);
    expect(await search('cat')).toEqual([]);

    // The planner can use the index for exactly this expression (seq scans off, as on a big table).
    const plan = await db.primary.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<{ 'QUERY PLAN': string }>`explain select id from messages where to_tsvector('simple', content) @@ plainto_tsquery('simple', ${'fox'})`.execute(trx);
    });
    expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('messages_content_fts_idx');
  });

  it('moves the cursors of a room of 150 members in place: every update HOT, no index entry per moved cursor (0014)', async () => {
    const roomId = await newRoom();
    await db.primary.updateTable('rooms').set({ last_seq: 10 }).where('id', '=', roomId).execute();
    const members = Array.from({ length: 150 }, () => randomUUID());
    await db.primary.insertInto('users').values(members.map((id) => ({ id, username: `m_${id.replaceAll('-', '').slice(0, 20)}`, display_name: 'Member', password_hash: 'x' }))).execute();
    await db.primary.insertInto('room_members').values(members.map((id) => ({ room_id: roomId, user_id: id }))).execute();
    // This transaction's own counters (pg_stat_get_xact_*): exact, and not waiting for the statistics to be flushed.
    const counted = await db.primary.transaction().execute(async (trx) => {
      const moved = await sql<{ outcome: string }>`select outcome from chat_move_cursors(
        ${members.map(() => roomId)}::text[], ${members}::text[], ${members.map(() => false)}::boolean[], ${members.map(() => 5)}::bigint[])`.execute(trx);
      const { rows } = await sql<{ updated: string | number; hot: string | number }>`select
        pg_stat_get_xact_tuples_updated('room_members'::regclass) as updated,
        pg_stat_get_xact_tuples_hot_updated('room_members'::regclass) as hot`.execute(trx);
      return { moved: moved.rows.length, updated: Number(rows[0]!.updated), hot: Number(rows[0]!.hot) };
    });
    // With pages packed full (fillfactor 100, before 0014) not one of them stayed on its page: 150 updates, 0 HOT.
    expect(counted).toEqual({ moved: 150, updated: 150, hot: 150 });
  });

  it('runs a statement marked `prepared` with its parameters, named on each PostgreSQL connection', async () => {
    const roomId = await newRoom();
    const marked = (seq: number) =>
      sql<{ last_seq: number }>`/* prepared: contract_room_seq */ update rooms set last_seq = ${seq} where id = ${roomId} returning last_seq`;
    // Both in one transaction: one connection, whose prepared statements the view lists.
    const prepared = await db.primary.transaction().execute(async (trx) => {
      expect((await marked(3).execute(trx)).rows).toEqual([{ last_seq: 3 }]);
      expect((await marked(4).execute(trx)).rows).toEqual([{ last_seq: 4 }]);
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements where name = 'contract_room_seq'`.execute(trx);
      return rows.map((r) => r.name);
    });
    expect(prepared).toEqual(target.preparesMarkedStatements ? ['contract_room_seq'] : []);
    expect(preparedStatementName('/* prepared: chat_send_messages */ select 1')).toBe('chat_send_messages');
    expect(preparedStatementName('select /* prepared: chat_session */ "id" from "sessions"')).toBe('chat_session');
    expect(preparedStatementName('select 1 /* prepared: late */')).toBeUndefined();
    expect(preparedStatementName('update /* prepared: other */ rooms set last_seq = 1')).toBeUndefined();
  });

  it('compiles a query once per handle and runs it with each call\'s arguments, builder or `sql`, as built anew would', async () => {
    const roomIds = [await newRoom(), await newRoom(), await newRoom()];
    await insertMessage(roomIds[0]!, 1, 'one');
    await insertMessage(roomIds[0]!, 2, 'two');
    await insertMessage(roomIds[2]!, 1, 'three');
    let builds = 0;
    const built = (q: Database['primary'], name: string, ids: string[]) =>
      q
        .selectFrom('rooms')
        .select(['id', 'last_seq'])
        .where('name', '=', name)
        .where(sql<boolean>`id = any(${ids}::text[])`)
        .orderBy('id');
    const once = compiledQuery(2, (q, name: string, ids: string[]) => {
      builds++;
      return built(q, name, ids);
    });
    for (const ids of [roomIds, roomIds.slice(1), [roomIds[2]!], []]) {
      for (const name of ['general', 'other']) expect(await once(db.primary, name, ids)).toEqual(await built(db.primary, name, ids).execute());
    }
    expect(builds).toBe(1);

    const contents = compiledQuery(2, (_q, roomId: string, limit: number) => sql<{ content: string }>`select content from messages where room_id = ${roomId} order by seq limit ${limit}`);
    expect(await contents(db.primary, roomIds[0]!, 1)).toEqual([{ content: 'one' }]);
    expect(await contents(db.primary, roomIds[0]!, 5)).toEqual([{ content: 'one' }, { content: 'two' }]);
    expect(await contents(db.primary, roomIds[2]!, 5)).toEqual([{ content: 'three' }]);

    // An argument used to compute the query instead of filling a parameter would be its placeholder: refused.
    const computed = compiledQuery(1, (q, roomId: string) => q.selectFrom('rooms').select('id').where('id', '=', `${roomId}`));
    await expect(computed(db.primary, roomIds[0]!)).rejects.toThrow('argument 0 does not reach the query as a parameter');
  });

  it('runs a query builder select marked with `prepared(name)` as one named statement for arrays of any length', async () => {
    const roomIds = [await newRoom(), await newRoom(), await newRoom()];
    const seqsOf = (q: Database['primary'], ids: string[]) =>
      q
        .selectFrom('rooms')
        .modifyFront(markPrepared('contract_room_seqs'))
        .select(['id', 'last_seq'])
        .where(sql<boolean>`id = any(${ids}::text[])`)
        .orderBy('id')
        .execute();
    const names = await db.primary.transaction().execute(async (trx) => {
      // Past PostgreSQL's five custom plans (after which it may settle on a generic one), with arrays of
      // different lengths: the text stays the same whatever their length, so one name serves them all.
      for (let i = 0; i < 8; i++) {
        const ids = roomIds.slice(0, 1 + (i % 3));
        const rows = await seqsOf(trx, ids);
        expect(rows.map((r) => r.id)).toEqual([...ids].sort());
      }
      const { rows } = await sql<{ name: string; plans: string | number }>`
        select name, generic_plans + custom_plans as plans from pg_prepared_statements where name = 'contract_room_seqs'`.execute(trx);
      return rows.map((r) => ({ name: r.name, plans: Number(r.plans) }));
    });
    expect(names).toEqual(target.preparesMarkedStatements ? [{ name: 'contract_room_seqs', plans: 8 }] : []);
    expect((await seqsOf(db.primary, roomIds)).map((r) => r.last_seq)).toEqual([0, 0, 0]);
    expect(() => markPrepared('Not A Name')).toThrow('not a prepared statement name');
  });

  it('keeps answering a marked statement after a migration changed its result type, on a fresh connection', async () => {
    // One connection on PostgreSQL, so the second call meets the statement the first one prepared.
    const single = config.kind === 'postgres' ? await createDatabase({ ...config, replicaUrls: [], poolMax: 1 }) : db;
    const table = `contract_shape_${randomUUID().slice(0, 8)}`;
    try {
      await sql`create table ${sql.table(table)} (id int primary key, v int not null)`.execute(single.primary);
      await sql`insert into ${sql.table(table)} values (1, 7)`.execute(single.primary);
      const read = async () => (await sql<{ v: number | string }>`/* prepared: contract_shape */ select v from ${sql.table(table)}`.execute(single.primary)).rows;
      const backend = async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(single.primary)).rows[0]!.pid;
      expect(await read()).toEqual([{ v: 7 }]);
      const before = await backend();
      // What a migration run by another node does: the column's type, so the statement's result type, changes.
      await sql`alter table ${sql.table(table)} alter column v type text using v::text || '!'`.execute(single.primary);
      expect(await read()).toEqual([{ v: '7!' }]);
      // The connection that held the old shape was dropped; its successor prepares the new one (PGlite is one
      // session that prepares nothing).
      expect((await backend()) !== before).toBe(target.preparesMarkedStatements);
      expect(await read()).toEqual([{ v: '7!' }]);
    } finally {
      await sql`drop table if exists ${sql.table(table)}`.execute(single.primary);
      if (single !== db) await single.close();
    }
  });

  // Last: it closes the shared instance (afterAll's close() is then a no-op).
  it('close() releases every connection, and is idempotent', async () => {
    await db.close();
    await db.close();
    await expect(db.primary.selectFrom('users').select('id').execute()).rejects.toThrow();
    if (db.pools) {
      for (const pool of [db.pools.primary, ...db.pools.replicas]) {
        expect(pool.ended).toBe(true);
        expect(pool.totalCount).toBe(0);
      }
    }
  });
});

describe('migrateToLatest on PostgreSQL from several nodes at once', () => {
  let testDb: TestDatabase;
  const nodes: Database[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await testDb?.drop();
  });

  it('both succeed and the schema is applied once (advisory lock)', async () => {
    for (let i = 0; i < 2; i++) nodes.push(await createDatabase({ kind: 'postgres', primaryUrl: testDb.url }));
    await Promise.all(nodes.map((node) => node.migrate()));

    const { rows } = await sql<{ name: string; n: number }>`
      select name, count(*) as n from kysely_migration group by name`.execute(nodes[0]!.primary);
    const files = (await readdir(defaultMigrationsDir())).filter((file) => file.endsWith('.sql'));
    expect(rows).toHaveLength(files.length);
    expect(rows.every((row) => row.n === 1)).toBe(true);
  });
});

describe('PostgreSQL pools', () => {
  it('log an idle client error instead of crashing the process', async () => {
    const testDb = await createTestDatabase();
    const errors: unknown[] = [];
    const db = await createDatabase({
      kind: 'postgres',
      primaryUrl: testDb.url,
      poolMax: 500,
      logger: { error: (obj) => errors.push(obj) },
    });
    try {
      const pool = db.pools!.primary;
      expect(pool.options.max).toBe(50);
      // Kill an idle client's backend, as a server restart or failover would: the pool emits 'error'.
      const idle = await pool.connect();
      const { rows } = await idle.query<{ pid: number }>('select pg_backend_pid() as pid');
      const other = await pool.connect();
      idle.release();
      await other.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      other.release();
      await waitUntil(async () => (errors.length > 0 ? true : undefined), { description: 'the pool error to be logged', timeoutMs: 10_000, intervalMs: 25 });
      expect(errors[0]).toMatchObject({ role: 'primary' });
      // The pool recovers: the next query gets a fresh connection.
      await expect(sql`select 1`.execute(db.primary)).resolves.toBeDefined();
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});
