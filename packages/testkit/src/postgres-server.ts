import { postgresUrl, withPgClient } from './pg-client';
import { childPids, spawnService, type ServiceProcess, waitForPidsToExit, waitForService } from './process';

export interface PostgresServerConfig {
  postgresBin: string;
  dataDir: string;
  /** Holds the Unix socket and its lock file; short, so the socket path stays under the 107-byte limit. */
  socketDir: string;
  logFile: string;
  /** A streaming replica is ready only once it is in recovery (hot standby), not merely accepting connections. */
  role: 'primary' | 'replica';
}

// Settings are passed on the command line, not written to postgresql.conf: a reused data directory
// then always starts with the settings of this code, and pg_basebackup copies nothing stale.
function settings(port: number, socketDir: string): string[] {
  const values: Record<string, string | number> = {
    port,
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    max_connections: 300, // N test workers × pool size, plus the cluster tests' several nodes
    shared_buffers: '128MB',
    wal_level: 'replica',
    max_wal_senders: 5,
    // No replication slot: a replica stopped by a test must not make the primary keep WAL forever, and
    // 256MB of retained WAL is far more than a test writes while a replica is down.
    wal_keep_size: '256MB',
    // fsync stays on and commits are synchronous: restart and crash tests must see real durability.
    synchronous_commit: 'on',
    hot_standby: 'on',
    logging_collector: 'off', // stderr goes to our log file
    log_line_prefix: '%m [%p] ',
    // For investigations (e.g. `TESTKIT_PG_SETTINGS='shared_preload_libraries=pg_stat_statements'` under a
    // benchmark): extra `name=value` settings separated by `;`.
    ...Object.fromEntries(
      (process.env.TESTKIT_PG_SETTINGS ?? '')
        .split(';')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
    ),
  };
  return Object.entries(values).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** One postmaster. Stopping and starting again reuses the same port and data directory. */
export class PostgresServer {
  private service: ServiceProcess | undefined;
  private boundPort: number | undefined;

  constructor(private readonly config: PostgresServerConfig) {}

  get port(): number {
    if (this.boundPort === undefined) throw new Error(`PostgreSQL ${this.config.role} was never started`);
    return this.boundPort;
  }

  get url(): string {
    return postgresUrl(this.port);
  }

  /** PID of the running postmaster, undefined when stopped. */
  get pid(): number | undefined {
    return this.service && !this.service.exitStatus ? this.service.pid : undefined;
  }

  async start(port = this.port, timeoutMs = 30_000): Promise<void> {
    if (this.pid !== undefined) throw new Error(`PostgreSQL ${this.config.role} is already running`);
    const { postgresBin, dataDir, socketDir, logFile, role } = this.config;
    this.boundPort = port;
    const service = spawnService({
      command: postgresBin,
      args: ['-D', dataDir, ...settings(port, socketDir)],
      logFile,
      user: 'postgres',
    });
    this.service = service;
    await waitForService(
      service,
      `PostgreSQL ${role} on port ${port}`,
      () =>
        withPgClient(postgresUrl(port), async (client) => {
          const { rows } = await client.query<{ recovering: boolean }>('select pg_is_in_recovery() as recovering');
          return rows[0]!.recovering === (role === 'replica');
        }),
      timeoutMs,
    );
  }

  /** Fast shutdown (SIGINT): open transactions are rolled back, then a clean checkpoint. */
  async stop(): Promise<void> {
    await this.service?.stop('SIGINT');
  }

  /** SIGKILL the postmaster: a crash, as far as the data directory is concerned. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    // Backends outlive a SIGKILLed postmaster for a moment; a restart or a stop() that removes the data
    // directory must not race them, so we return only once they are gone too.
    const workers = childPids(pid);
    await this.service?.kill();
    await waitForPidsToExit(workers);
  }
}
