import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const WEB = path.resolve(__dirname, '../..');
const REPO = path.resolve(WEB, '../..');
const WEB_DIST = path.join(WEB, 'dist');

// Everything the bundle is made of: the app and the workspace packages it imports.
const SOURCES = [
  path.join(WEB, 'src'),
  path.join(WEB, 'index.html'),
  path.join(WEB, 'public'),
  path.join(WEB, 'vite.config.ts'),
  path.join(WEB, 'package.json'),
  path.join(REPO, 'packages/client/src'),
  path.join(REPO, 'packages/protocol/src'),
];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

function isFresh(): boolean {
  const index = path.join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((s) => newestMtime(s) <= built);
}

/**
 * Builds apps/web/dist when it is missing or older than any source it is made of (a Vite build takes about
 * a second). Test files run in parallel workers: a lock directory makes one of them build while the others
 * wait, bounded in time.
 */
export function ensureWebBuild(): string {
  if (isFresh()) return WEB_DIST;
  const lock = path.join(tmpdir(), `chat-web-build-${Buffer.from(REPO).toString('hex').slice(-16)}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A crashed worker's lock is stale after the deadline of any build.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited too long for the web build lock ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (isFresh()) return WEB_DIST;
    const vite = path.join(WEB, 'node_modules/vite/bin/vite.js');
    // jest sets NODE_ENV=test, which would make Vite bundle React's development build.
    const res = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: WEB, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NODE_ENV: 'production' } });
    if (res.status !== 0) throw new Error(`web build failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
    return WEB_DIST;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
