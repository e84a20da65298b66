import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findBinary } from './binaries';
import { onFreePort } from './free-port';
import { spawnService, type ServiceProcess, waitForService } from './process';
import { makeTempDir, removeDir } from './temp-dir';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** PID of the running server, undefined when stopped or killed. */
  readonly pid: number | undefined;
  /** Shuts the server down and removes its temporary directory. */
  stop(): Promise<void>;
  /** Stops (if running) and starts again on the same port with the same arguments: all data is gone. */
  restart(): Promise<void>;
  /** SIGKILL, as in a crash. `restart()` brings it back. */
  kill(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  // One attempt per probe: waitUntil does the retrying, with its deadline.
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

export async function startRedis({ timeoutMs = 15_000 }: { timeoutMs?: number } = {}): Promise<RedisServer> {
  const redisBin = findBinary('redis-server');
  const dir = makeTempDir('chat-redis-');
  let service: ServiceProcess | undefined;

  const start = async (port: number) => {
    mkdirSync(dir, { recursive: true });
    // No persistence: a restarted Redis is an empty Redis, which is what the restart tests must survive.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--daemonize', 'no', '--dir', dir);
    service = spawnService({ command: redisBin, args, logFile: join(dir, 'redis.log'), cwd: dir });
    await waitForService(service, `Redis on port ${port}`, () => ping(port), timeoutMs);
    return port;
  };

  const port = await onFreePort(start).catch((error: unknown) => {
    removeDir(dir);
    throw error;
  });
  // SIGTERM makes Redis shut down cleanly (with --save "" it writes nothing).
  const stopProcess = async () => void (await service?.stop('SIGTERM'));

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return service && !service.exitStatus ? service.pid : undefined;
    },
    stop: async () => {
      await stopProcess();
      removeDir(dir);
    },
    restart: async () => {
      await stopProcess();
      await start(port);
    },
    kill: async () => void (await service?.kill()),
  };
}
