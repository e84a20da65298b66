import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, ensureServerBuild, findBinary, REPO_ROOT, waitUntil, type TestDatabase } from '@chat/testkit';
import { createDatabase, sql } from '@chat/db';
import { connectRaw, createDataHome, http, registerUser, startNode, type DataHome, type TestNode } from './support/harness';

// The nodes connect as a role that can read and write rows and nothing else (issue 9, item 7), made by the
// same deploy/postgres/app-role.sql Compose runs; the schema is applied by `migrate` (dist/migrate.js, the
// command the image runs) as a separate, non-superuser owner. Everything a node does works under it, DDL
// is refused, and a node that may not migrate refuses to start on a database that is behind.

const run = promisify(execFile);
const withRole = (url: string, role: string, password: string) => {
  const u = new URL(url);
  u.username = role;
  u.password = password;
  return u.toString();
};

/** Runs statements on a connection of its own (the @chat/db pool, one connection). */
async function asRole(url: string, statements: string): Promise<void> {
  const db = await createDatabase({ kind: 'postgres', primaryUrl: url, poolMax: 1 });
  try {
    await sql.raw(statements).execute(db.primary);
  } finally {
    await db.close();
  }
}

describe('least privilege for the nodes', () => {
  const suffix = randomBytes(4).toString('hex');
  const owner = `chat_owner_${suffix}`;
  const app = `chat_app_${suffix}`;
  const password = `pw-${suffix}`;
  let db: TestDatabase;
  let behind: TestDatabase;
  let node: TestNode;
  let appUrl: string;
  let home: DataHome;

  beforeAll(async () => {
    // A data home for the harness's defaults (secret, log level); DATABASE_URL below makes the node PostgreSQL.
    home = await createDataHome('pglite');
    db = await createTestDatabase();
    behind = await createTestDatabase();
    await asRole(db.url, `create role ${owner} login password '${password}'; alter schema public owner to ${owner};`);
    await run(findBinary('psql'), [
      '-v', 'ON_ERROR_STOP=1', '-q', '-d', db.url,
      '-v', `owner=${owner}`, '-v', `app=${app}`, '-v', `app_password=${password}`, '-v', `dbname=${db.name}`,
      '-f', join(REPO_ROOT, 'deploy/postgres/app-role.sql'),
    ]);
    // The schema, applied by the command the image runs, as its owner.
    const migrate = await run(process.execPath, [join(ensureServerBuild(), '../migrate.js')], { env: { ...process.env, DATABASE_URL: withRole(db.url, owner, password) } });
    expect(migrate.stdout).toMatch(/applied \d+ migration\(s\)/);
    await db.waitForReplicaCatchUp();
    appUrl = withRole(db.url, app, password);
    node = await startNode(home, {
      DATABASE_URL: appUrl,
      DATABASE_REPLICA_URLS: withRole(db.replicaUrl!, app, password),
      MIGRATE_ON_START: 'false',
      SEARCH_INDEX_MERGE_INTERVAL_MS: '50',
    });
  }, 120_000);

  afterAll(async () => {
    await node?.close();
    await home?.dispose();
    await db?.drop();
    await behind?.drop();
    await asRole(process.env.TEST_DATABASE_URL!, `drop role if exists ${app}; drop role if exists ${owner};`).catch(() => undefined);
  });

  test('sign-up, rooms, messages, receipts, search and the index merge all work as the app role', async () => {
    const owner = await registerUser(node, 'own');
    const room = await http<{ room: { id: string } }>(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body: { name: 'lp', type: 'public' } });
    expect(room.status).toBe(201);
    const roomId = room.body.room.id;
    const { socket } = await connectRaw(node, owner.accessToken);
    try {
      const ack = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'wallaby under least privilege' });
      expect(ack.ok).toBe(true);
      expect(await socket.emitWithAck('message:read', { roomId, seq: 1 })).toEqual({ ok: true });
      await waitUntil(async () => ((await node.app.metrics.searchIndexMergedPages.get()).values[0]?.value ?? 0) > 0, {
        description: 'the search index merge (SECURITY DEFINER) to run as the app role',
      });
      const search = await http<{ results: unknown[] }>(node.url, 'GET', '/api/search?q=wallaby', { token: owner.accessToken });
      expect(search.body.results).toHaveLength(1);
    } finally {
      socket.close();
    }
  });

  test('the app role can change no schema', async () => {
    for (const statement of ['create table intruder (id int)', 'drop table messages', 'alter table messages add column x int', 'create index on messages (content)', 'truncate audit_log']) {
      // 42501: insufficient_privilege (not the owner, no CREATE on the schema, no TRUNCATE).
      await expect(asRole(appUrl, statement)).rejects.toMatchObject({ code: '42501' });
    }
  });

  test('a node that may not migrate refuses to start on a database that is behind', async () => {
    await expect(
      startNode(home, { DATABASE_URL: behind.url, DATABASE_REPLICA_URLS: '', MIGRATE_ON_START: 'false' }),
    ).rejects.toThrow(/the database is behind this node \(pending: 0001_init, .*\): run `pnpm migrate`/);
  });
});
