import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../src/index';

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase on the global services', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('creates a database named test_* on the primary that also exists on the replica', async () => {
    expect(db.name).toMatch(/^test_[0-9a-f]{12}$/);
    expect(db.url).toMatch(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:\\d+/${db.name}$`));
    const [primary] = await query<{ name: string; recovering: boolean }>(
      db.url,
      'select current_database() as name, pg_is_in_recovery() as recovering',
    );
    const [replica] = await query<{ name: string; recovering: boolean }>(
      db.replicaUrl!,
      'select current_database() as name, pg_is_in_recovery() as recovering',
    );
    expect(primary).toEqual({ name: db.name, recovering: false });
    expect(replica).toEqual({ name: db.name, recovering: true });
  });

  it('makes a table written on the primary readable on the replica after waitForReplicaCatchUp', async () => {
    await query(db.url, 'create table notes (id int primary key, body text not null)');
    await query(db.url, "insert into notes values (1, 'héllo'), (2, 'world')");
    await db.waitForReplicaCatchUp();
    const rows = await query<{ id: number; body: string }>(db.replicaUrl!, 'select id, body from notes order by id');
    expect(rows).toEqual([
      { id: 1, body: 'héllo' },
      { id: 2, body: 'world' },
    ]);
  });

  it('refuses writes on the replica', async () => {
    await expect(query(db.replicaUrl!, 'create table nope (id int)')).rejects.toThrow(/read-only transaction/);
  });

  it('drop() removes the database', async () => {
    const other = await createTestDatabase();
    await other.drop();
    const rows = await query<{ n: number }>(db.url, 'select count(*)::int as n from pg_database where datname = $1', [
      other.name,
    ]);
    expect(rows).toEqual([{ n: 0 }]);
  });
});
