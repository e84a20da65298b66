import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries';
import { onFreePort } from './free-port';
import { runCommand, userIds } from './process';
import { PostgresServer } from './postgres-server';
import { pauseReplay, resumeReplay, waitForReplicaCatchUp } from './replication';
import { makeTempDir, removeDir } from './temp-dir';

export interface StartPostgresOptions {
  /** Also start a streaming replica (hot standby) of the primary. */
  replica?: boolean;
  /**
   * Primary data directory to use instead of a temporary one: initialised if empty, reused if it
   * already holds a cluster, and kept by `stop()` (for tests that restart on existing data).
   * When running as root, its parent directories must be traversable by the `postgres` user
   * (`mkdtemp` makes 0700 directories: chmod 755 them).
   */
  dataDir?: string;
  /** Deadline for each server to become ready. */
  timeoutMs?: number;
}

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly primaryUrl: string;
  readonly replicaUrl: string | undefined;
  readonly primaryPid: number | undefined;
  readonly replicaPid: number | undefined;
  /** Temporary directory holding logs, sockets and the data directories this kit created. */
  readonly dir: string;
  /** Fast shutdown of both servers, then removal of the temporary directory. */
  stop(): Promise<void>;
  stopReplica(): Promise<void>;
  /** Starts the replica again on the same port and data directory; it resumes streaming from the primary. */
  startReplica(): Promise<void>;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  waitForReplicaCatchUp(options?: { timeoutMs?: number }): Promise<void>;
  /** SIGKILL the primary's postmaster (a crash). */
  killPrimary(): Promise<void>;
}

// Every line is `trust` on loopback: these servers exist for one test run and listen on 127.0.0.1 only.
const PG_HBA = `# written by @chat/testkit
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
host    replication     all     127.0.0.1/32    trust
`;

function ownDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ids = userIds('postgres');
  if (ids) chownSync(dir, ids.uid, ids.gid);
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const bin = { initdb: findBinary('initdb'), postgres: findBinary('postgres'), basebackup: findBinary('pg_basebackup') };
  const dir = makeTempDir('chat-pg-', 'postgres');
  const primaryDir = options.dataDir ?? join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  const primary = new PostgresServer({
    postgresBin: bin.postgres,
    dataDir: primaryDir,
    socketDir: dir,
    logFile: join(dir, 'primary.log'),
    role: 'primary',
  });
  const replica = options.replica
    ? new PostgresServer({
        postgresBin: bin.postgres,
        dataDir: replicaDir,
        socketDir: dir,
        logFile: join(dir, 'replica.log'),
        role: 'replica',
      })
    : undefined;

  const stop = async () => {
    // Replica first: a primary in fast shutdown waits for its WAL senders to hand over the final WAL.
    await replica?.stop();
    await primary.stop();
    removeDir(dir);
  };

  try {
    if (!existsSync(join(primaryDir, 'PG_VERSION'))) {
      ownDir(primaryDir);
      // --no-sync only skips flushing the fresh files at creation; the server itself runs with fsync on.
      // C.UTF-8 is built into glibc: UTF-8 everywhere without depending on generated locales.
      await runCommand(
        bin.initdb,
        ['-D', primaryDir, '--auth=trust', '-U', 'postgres', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
        { user: 'postgres', cwd: dir },
      );
    }
    writeFileSync(join(primaryDir, 'pg_hba.conf'), PG_HBA);
    await onFreePort((port) => primary.start(port, timeoutMs));

    if (replica) {
      // -R writes standby.signal and primary_conninfo; -c fast avoids waiting for a spread checkpoint.
      await runCommand(
        bin.basebackup,
        ['-R', '-X', 'stream', '-c', 'fast', '--no-sync', '-D', replicaDir]
          .concat(['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres']),
        { user: 'postgres', cwd: dir },
      );
      await onFreePort((port) => replica.start(port, timeoutMs));
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  const requireReplica = () => {
    if (!replica) throw new Error('This PostgreSQL cluster was started without { replica: true }');
    return replica;
  };

  return {
    primaryUrl: primary.url,
    replicaUrl: replica?.url,
    get primaryPid() {
      return primary.pid;
    },
    get replicaPid() {
      return replica?.pid;
    },
    dir,
    stop,
    stopReplica: () => requireReplica().stop(),
    startReplica: () => requireReplica().start(undefined, timeoutMs),
    pauseReplay: () => pauseReplay(requireReplica().url),
    resumeReplay: () => resumeReplay(requireReplica().url),
    waitForReplicaCatchUp: (opts) =>
      waitForReplicaCatchUp({ primaryUrl: primary.url, replicaUrl: requireReplica().url }, opts),
    killPrimary: () => primary.kill(),
  };
}
