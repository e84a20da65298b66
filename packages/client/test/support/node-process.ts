import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureServerBuild } from '@chat/testkit';

const REPO = path.resolve(__dirname, '../../../..');

/**
 * A real chat node as `pnpm start` runs it (the compiled `apps/server/dist/main.js`, embedded PGlite under
 * its own data directory), in a child process: tests can SIGKILL it like a crash and start it again on the
 * same port and data, so clients reconnect to the same URL.
 */
export interface NodeProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** Stops the process with `signal` (SIGKILL = crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data; resolves when /readyz answers 200. */
  start(): Promise<void>;
  /** Stops it (if running) and removes its data directory. */
  dispose(): Promise<void>;
}

export interface SpawnNodeOptions {
  env?: Record<string, string>;
  /** Waiting for /readyz, per start; default 90 s (PGlite's first start on a busy 2-core box is slow). */
  readyTimeoutMs?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function spawnNode(opts: SpawnNodeOptions = {}): Promise<NodeProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chat-sdk-node-'));
  const url = `http://127.0.0.1:${port}`;
  const entry = ensureServerBuild();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const start = async () => {
    const proc = spawn(process.execPath, [entry], {
      cwd: REPO,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        JWT_SECRET: 'sdk-test-secret-sdk-test-secret-0123456',
        NODE_ID: `sdk-${port}`,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let alive = true;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void exited.then(() => (alive = false));
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
    for (;;) {
      if (!alive) throw new Error(`node exited before it was ready:\n${log.slice(-2000)}`);
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`node not ready within ${opts.readyTimeoutMs ?? 90_000} ms:\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
  };

  await start();
  return {
    url,
    port,
    dataDir,
    output: () => log,
    stop,
    start,
    async dispose() {
      await stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
