import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { HistoryResponse } from '@chat/protocol';
import { createTestDatabase, ensureServerBuild, findBinary, makeTempDir, removeDir, REPO_ROOT, type TestDatabase } from '@chat/testkit';
import { connectRaw, createDataHome, createRoom, http, registerUser, startNode, type DataHome } from './support/harness';

// docs/operations.md, "Backups and restore", carried out: a node writes, `pg_dump -Fc` and
// `pg_restore --no-owner` copy the database, `migrate.js` finds it up to date, and a node on the copy
// serves the same accounts and history and goes on with the next seq.

describe('backup with pg_dump, restore with pg_restore', () => {
  let home: DataHome;
  let restored: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    ensureServerBuild();
    home = await createDataHome('postgres');
    restored = await createTestDatabase();
    dir = makeTempDir('chat-backup-');
  });
  afterAll(async () => {
    await restored?.drop();
    await home?.dispose();
    if (dir) removeDir(dir);
  });

  test('a node on the restored copy has every account, room and message, and continues the sequence', async () => {
    const original = await startNode(home);
    const user = await registerUser(original);
    const roomId = await createRoom(original, user);
    const { socket } = await connectRaw(original, user.accessToken);
    for (const text of ['one', 'two', 'three']) {
      expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: text })).toMatchObject({ ok: true });
    }
    socket.close();
    await original.close();

    const config = home.config();
    if (config.database.kind !== 'postgres') throw new Error('expected a PostgreSQL data home');
    const dump = join(dir, 'chat.dump');
    execFileSync(findBinary('pg_dump'), ['-d', config.database.primaryUrl, '-Fc', '-f', dump], { stdio: 'pipe' });
    execFileSync(findBinary('pg_restore'), ['-d', restored.url, '--no-owner', dump], { stdio: 'pipe' });
    const migrate = execFileSync(process.execPath, [join(REPO_ROOT, 'apps/server/dist/migrate.js')], {
      env: { PATH: process.env.PATH, DATABASE_URL: restored.url },
      encoding: 'utf8',
    });
    expect(migrate).toContain('migrate: the database is up to date');
    await restored.waitForReplicaCatchUp();

    const copy = await startNode(home, { DATABASE_URL: restored.url, DATABASE_REPLICA_URLS: restored.replicaUrl ?? '', MIGRATE_ON_START: 'false' });
    try {
      const login = await http<{ accessToken: string }>(copy.url, 'POST', '/api/auth/login', { body: { username: user.user.username, password: user.password } });
      expect(login.status).toBe(200);
      const history = await http<HistoryResponse>(copy.url, 'GET', `/api/rooms/${roomId}/messages`, { token: login.body.accessToken });
      expect(history.status).toBe(200);
      expect(history.body.messages.map((m) => [m.seq, m.content])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
      ]);
      const again = await connectRaw(copy, login.body.accessToken);
      const ack = await again.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'four' });
      expect(ack).toMatchObject({ ok: true, message: { seq: 4, content: 'four' } });
      again.socket.close();
    } finally {
      await copy.close();
    }
  });
});
