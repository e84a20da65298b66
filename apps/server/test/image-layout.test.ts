import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTestDatabase,
  ensureServerBuild,
  freePort,
  makeTempDir,
  removeDir,
  REPO_ROOT,
  spawnService,
  waitUntil,
  type ServiceProcess,
  type TestDatabase,
} from '@chat/testkit';

// The backend image without a Docker engine: the Dockerfile's own server-build commands and backend COPY
// lines, carried out here on a temporary root, give the image's /app. What it holds is checked (the compiled
// node and production dependencies only, its size), then it is run as the image runs it: migrate.js as the
// schema owner, main.js against PostgreSQL with its replica; and without DATABASE_URL it says what is missing.

const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
const stage = (name: string) => {
  const block = dockerfile.split(/^(?=FROM )/m).find((b) => new RegExp(`^FROM \\S+ AS ${name}$`, 'm').test(b));
  if (!block) throw new Error(`deploy/Dockerfile has no stage ${name}`);
  return block;
};

/** Bytes under `dir`, symbolic links not followed. */
const sizeOf = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
    const path = join(dir, e.name);
    return sum + (e.isDirectory() ? sizeOf(path) : e.isFile() ? statSync(path).size : 0);
  }, 0);

/** Every package name installed under node_modules (pnpm's .pnpm store included). */
const packagesIn = (nodeModules: string): string[] => {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.bin') continue;
      if (e.name === '.pnpm') {
        for (const store of readdirSync(join(dir, e.name))) {
          const inner = join(dir, e.name, store, 'node_modules');
          try {
            walk(inner);
          } catch {
            // lock.yaml and other files
          }
        }
      } else if (e.name.startsWith('@')) {
        for (const scoped of readdirSync(join(dir, e.name))) names.add(`${e.name}/${scoped}`);
      } else {
        names.add(e.name);
      }
    }
  };
  walk(nodeModules);
  return [...names].sort();
};

describe('the backend image, laid out from deploy/Dockerfile', () => {
  let root: string;
  let app: string;
  let db: TestDatabase;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    ensureServerBuild();
    root = makeTempDir('chat-image-');
    app = join(root, 'app');
    // server-build: every RUN after `pnpm build` (already done above), with /deploy under the temporary root.
    const runs = [...stage('server-build').matchAll(/^RUN (?:--mount=\S+ )*(.+)$/gm)].map((m) => m[1]!).filter((cmd) => cmd !== 'pnpm build');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const cmd of runs) execFileSync('sh', ['-c', cmd.replaceAll('/deploy', join(root, 'deploy'))], { cwd: REPO_ROOT, stdio: 'pipe' });
    // backend: its COPY lines, from the checkout or from server-build's /deploy.
    for (const [, from, source, target] of stage('backend').matchAll(/^COPY (--from=server-build )?(\S+) (\S+)$/gm)) {
      const src = from ? join(root, source!) : join(REPO_ROOT, source!);
      mkdirSync(join(app, target!, '..'), { recursive: true });
      cpSync(src, join(app, target!), { recursive: true, verbatimSymlinks: true });
    }
    db = await createTestDatabase();
  }, 120_000);

  afterAll(async () => {
    for (const p of started) await p.stop();
    await db?.drop();
    if (root) removeDir(root);
  });

  it('holds the compiled node and its production dependencies only: no test tools, bundler, benchmark or PGlite', () => {
    expect(readdirSync(join(app, 'apps/server')).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    const packages = packagesIn(join(app, 'apps/server/node_modules'));
    expect(packages).toEqual(expect.arrayContaining(['@node-rs/argon2', 'p-limit']));
    for (const devTool of ['esbuild', 'tsx', 'typescript', 'jest', 'artillery', 'playwright-core', 'socket.io-client', '@chat/testkit', '@chat/bench', '@electric-sql/pglite', 'vite']) {
      expect([devTool, packages.includes(devTool)]).toEqual([devTool, false]);
    }
    // What the image adds to node:24-bookworm-slim (docs/cluster.md states it).
    const megabytes = sizeOf(app) / 1e6;
    expect(megabytes).toBeLessThan(12);
    expect(megabytes).toBeGreaterThan(3);
  });

  it('migrates with migrate.js, then serves against PostgreSQL and its replica with main.js', async () => {
    const env = { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: db.url };
    execFileSync(process.execPath, ['apps/server/dist/migrate.js'], { cwd: app, env, stdio: 'pipe' });
    const port = await freePort();
    const node = spawnService({
      command: process.execPath,
      args: ['apps/server/dist/main.js'],
      cwd: app,
      logFile: join(root, 'node.log'),
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_REPLICA_URLS: db.replicaUrl ?? '',
        MIGRATE_ON_START: 'false',
        JWT_SECRET: 'image-layout-secret-image-layout-secret-0123',
        LOG_LEVEL: 'warn',
      },
    });
    started.push(node);
    const ready = await waitUntil(
      async () => {
        if (node.exitStatus) throw new Error(`the node exited: ${readFileSync(node.logFile, 'utf8')}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return res?.status === 200 ? ((await res.json()) as { status: string }) : undefined;
      },
      { timeoutMs: 30_000, description: 'the image layout node to be ready', retryErrors: false },
    );
    expect(ready.status).toBe('ready');
  });

  it('says what is missing when started without DATABASE_URL (no embedded database in the image)', () => {
    const result = spawnSync(process.execPath, ['apps/server/dist/main.js'], {
      cwd: app,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', JWT_SECRET: 'image-layout-secret-image-layout-secret-0123', DATA_DIR: join(root, 'data') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toMatch(/embedded mode needs @electric-sql\/pglite, which this installation does not have: set DATABASE_URL/);
  });
});
