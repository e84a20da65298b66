import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { onFreePort } from './free-port';
import { REPO_ROOT } from './nginx';
import {
  childPids,
  spawnService,
  waitForPidsToExit,
  waitForService,
  type ExitStatus,
  type ServiceProcess,
} from './process';
import { ensureServerBuild, SERVER_ENTRY, SERVER_NODE_FLAGS } from './server-build';
import { TEST_ENV } from './test-services';
import { makeTempDir, removeDir } from './temp-dir';

/** A backend node in a child process of its own, as `pnpm start` runs it: the compiled `apps/server/dist/main.js`. */
export interface NodeProcess {
  /**
   * NODE_ID, so also `hello.node` and `/readyz`'s `node` (with WORKERS=n, each worker's `<id>-w<k>`).
   */
  readonly id: string;
  /** The node itself: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** PID of the node's (main) process; undefined while it is not running. */
  readonly pid: number | undefined;
  /** stdout and stderr of every start. */
  readonly logFile: string;
  /**
   * Sends `signal` (SIGKILL by default: a crash) and resolves once the process and its children
   * (workers) have exited. Any other signal escalates to SIGKILL after 60 s.
   */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus | undefined>;
  /** Graceful stop (SIGTERM by default: the node drains), escalating to SIGKILL after 60 s. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus | undefined>;
  /** Starts it again on the same port (and data); resolves once `/readyz` answers 200. */
  start(): Promise<void>;
  /** Stops the node if it runs, then starts it again. */
  restart(): Promise<void>;
}


function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The environment a node inherits: ours, minus what only makes sense for jest or for this process. */
export function nodeBaseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules
  for (const name of Object.values(TEST_ENV)) delete env[name];
  return env;
}

/** One node process; `env` is its whole environment but PORT, which is chosen at the first start. */
export class NodeChild implements NodeProcess {
  private service: ServiceProcess | undefined;
  private boundPort: number | undefined;

  constructor(
    readonly id: string,
    readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
    /** Node.js arguments: the compiled server with its flags by default. */
    private readonly argv: readonly string[] = [...SERVER_NODE_FLAGS, SERVER_ENTRY],
  ) {}

  get port(): number {
    if (this.boundPort === undefined) throw new Error(`${this.id} was never started`);
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.service && !this.service.exitStatus ? this.service.pid : undefined;
  }

  async start(port = this.port): Promise<void> {
    if (this.pid !== undefined) throw new Error(`${this.id} is already running`);
    this.boundPort = port;
    const service = spawnService({
      command: process.execPath,
      args: [...this.argv],
      cwd: REPO_ROOT,
      env: { ...this.env, PORT: String(port) },
      logFile: this.logFile,
    });
    this.service = service;
    const readyz = `${this.url}/readyz`;
    await waitForService(
      service,
      `${this.id} to answer 200 on ${readyz}`,
      async () => {
        const { status, body } = await getJson(readyz);
        if (status !== 200) return false;
        const node = (body as { node?: unknown }).node;
        // With WORKERS=n each worker is a Socket.IO node of its own, named `<NODE_ID>-w<i>`.
        if (node !== this.id && !(typeof node === 'string' && node.startsWith(`${this.id}-w`))) {
          throw new Error(`${readyz} names node ${String(node)}, expected ${this.id}`);
        }
        return true;
      },
      this.timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus | undefined> {
    const service = this.service;
    if (!service || service.exitStatus) return service?.exitStatus;
    // Workers notice their parent's death and exit on their own; a restart on the same port must not
    // race them.
    const children = childPids(service.pid);
    const status = signal === 'SIGKILL' ? await service.kill() : await service.stop(signal, 60_000);
    await waitForPidsToExit(children, 30_000);
    return status;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus | undefined> {
    return this.kill(signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** A node of its own in the embedded mode (PGlite), with a data directory that outlives its restarts. */
export interface StandaloneNode extends NodeProcess {
  readonly dataDir: string;
  /** Kills the node (if it runs) and removes its data directory and log. */
  dispose(): Promise<void>;
}

class EmbeddedNode extends NodeChild implements StandaloneNode {
  constructor(
    private readonly dir: string,
    readonly dataDir: string,
    id: string,
    env: NodeJS.ProcessEnv,
    timeoutMs: number,
  ) {
    super(id, join(dir, 'node.log'), env, timeoutMs);
  }

  async dispose(): Promise<void> {
    await this.kill();
    removeDir(this.dir);
  }
}

export interface SpawnNodeOptions {
  /** Extra environment, applied last (e.g. `{ WEB_DIST_DIR: … }`, or `DATABASE_URL` to leave embedded mode). */
  env?: Record<string, string>;
  /** Deadline for each start to answer `/readyz`; 90 s by default (PGlite's first start on a busy 2-core box is slow). */
  timeoutMs?: number;
}

/**
 * Starts one node process on a free loopback port and a fresh data directory, and waits until it is
 * ready. Tests can SIGKILL it like a crash and start it again on the same port and data, so clients
 * reconnect to the same URL.
 */
export async function spawnNode(options: SpawnNodeOptions = {}): Promise<StandaloneNode> {
  ensureServerBuild();
  const dir = makeTempDir('chat-node-');
  const dataDir = join(dir, 'data');
  const id = options.env?.NODE_ID ?? `node-${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...nodeBaseEnv(),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    NODE_ID: id,
    ...options.env,
  };
  const node = new EmbeddedNode(dir, dataDir, id, env, options.timeoutMs ?? 90_000);
  try {
    await onFreePort((port) => node.start(port));
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  return node;
}
