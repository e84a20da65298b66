import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { onFreePort } from './free-port';
import { spawnService, type ServiceProcess, waitForService } from './process';
import { makeTempDir, removeDir } from './temp-dir';

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** PID of the running server, undefined when stopped. */
  readonly pid: number | undefined;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server in its own process on a free loopback port: s3rver, an HTTP server speaking
 * the S3 REST API (SigV4 signatures checked, with its fixed credentials), storing objects in a temporary
 * directory. It is the one S3-compatible server installable on a machine that reaches only the npm registry
 * and Debian (MinIO is in neither); Compose runs MinIO (docs/ARCHITECTURE.md "Files").
 */
export async function startS3Server({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<S3Server> {
  const require = createRequire(__filename);
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const dir = makeTempDir('chat-s3-');
  let service: ServiceProcess | undefined;

  const start = async (port: number) => {
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    service = spawnService({
      command: process.execPath,
      args: [bin, '--directory', data, '--address', '127.0.0.1', '--port', String(port), '--silent', '--no-vhost-buckets'],
      logFile: join(dir, 's3rver.log'),
      cwd: dir,
    });
    // Any HTTP answer means it listens (an anonymous list of buckets is refused, which is fine).
    await waitForService(service, `s3rver on port ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined, timeoutMs);
    return port;
  };

  const port = await onFreePort(start).catch((error: unknown) => {
    removeDir(dir);
    throw error;
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    get pid() {
      return service && !service.exitStatus ? service.pid : undefined;
    },
    stop: async () => {
      await service?.stop('SIGTERM');
      removeDir(dir);
    },
  };
}
