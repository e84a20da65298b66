import { existsSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { childPids, createTestDatabase, startPostgres, type PostgresCluster, type TestDatabase } from '../src/index';

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// A cluster of its own: pausing replay on the shared replica would stall every other test file.
describe('startPostgres({ replica: true })', () => {
  let cluster: PostgresCluster;
  let db: TestDatabase;
  beforeAll(async () => {
    cluster = await startPostgres({ replica: true });
    db = await createTestDatabase(cluster);
    await query(db.url, 'create table events (id int primary key)');
    // The table must exist on the replica before replay is paused, or the reads below race its creation.
    await cluster.waitForReplicaCatchUp();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps a new row invisible on the replica while replay is paused, and shows it after resume', async () => {
    await cluster.pauseReplay();
    await query(db.url, 'insert into events values (1)');

    // The replica has received the commit (the WAL is there), it just has not applied it.
    const [{ lsn }] = (await query<{ lsn: string }>(db.url, 'select pg_current_wal_lsn()::text as lsn')) as [
      { lsn: string },
    ];
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [row] = await query<{ received: boolean }>(
        db.replicaUrl!,
        `select pg_last_wal_receive_lsn() >= '${lsn}'::pg_lsn as received`,
      );
      if (row?.received) break;
      if (Date.now() > deadline) throw new Error('replica never received the WAL');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await query(db.replicaUrl!, 'select id from events')).toEqual([]);

    await cluster.resumeReplay();
    await cluster.waitForReplicaCatchUp();
    expect(await query(db.replicaUrl!, 'select id from events')).toEqual([{ id: 1 }]);
  });

  it('reports a paused replay when catching up times out', async () => {
    await cluster.pauseReplay();
    await query(db.url, 'insert into events values (2)');
    await expect(cluster.waitForReplicaCatchUp({ timeoutMs: 300 })).rejects.toThrow(/pause state: paused/);
    await cluster.resumeReplay();
    await cluster.waitForReplicaCatchUp();
  });

  it('restarts the replica on the same URL, and it streams what the primary wrote meanwhile', async () => {
    const oldPid = cluster.replicaPid!;
    await cluster.stopReplica();
    expect(cluster.replicaPid).toBeUndefined();
    expect(isAlive(oldPid)).toBe(false);

    await query(db.url, 'insert into events values (3)');
    await cluster.startReplica();
    expect(cluster.replicaPid).not.toBe(oldPid);
    await cluster.waitForReplicaCatchUp();
    expect(await query(db.replicaUrl!, 'select id from events order by id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('killPrimary() ends the primary with SIGKILL', async () => {
    const pid = cluster.primaryPid!;
    const workers = childPids(pid);
    expect(workers.length).toBeGreaterThan(0); // checkpointer, WAL writer, WAL sender, …
    await cluster.killPrimary();
    expect(cluster.primaryPid).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
    // The orphaned backends are gone too (at most zombies awaiting reaping by init).
    for (const worker of workers) expect(isRunning(worker)).toBe(false);
    await expect(query(cluster.primaryUrl, 'select 1')).rejects.toThrow();
  });

  it('stop() ends both servers and removes the temporary directory', async () => {
    const replicaPid = cluster.replicaPid!;
    await cluster.stop();
    expect(isAlive(replicaPid)).toBe(false);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
