import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { waitUntil } from './wait-until';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running server we spawned: the PID is the server itself, so signals reach it directly. */
export interface ServiceProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Set once the process has exited. */
  readonly exitStatus: ExitStatus | undefined;
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal`, waits for the exit, and escalates to SIGKILL after `timeoutMs`. No-op if already exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<ExitStatus>;
}

export interface SpawnServiceOptions {
  command: string;
  args: string[];
  /** stdout and stderr are appended here, so a failed start can show the server's own explanation. */
  logFile: string;
  cwd?: string;
  /** Run as this user when we are root (initdb and postgres refuse to run as root). */
  user?: string;
  /** The child's whole environment; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
}

// Servers still running when this process exits (a crashed test run, a forgotten stop()) are killed here,
// so a test run never leaves orphans listening on loopback ports. Only our own PIDs, never by name.
const running = new Set<ServiceProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const service of running) {
      try {
        process.kill(service.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * uid/gid for `user` when we are root, else nothing (run as ourselves). Node sets them in the child
 * before exec, which does what `runuser -u <user> --` does without an intermediate process: the PID we
 * hold is the server's, so SIGINT/SIGKILL need no forwarding.
 */
function identityFor(user: string | undefined): { uid?: number; gid?: number } {
  if (!user || process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The numeric uid/gid a service user maps to, or undefined when we are not root (nothing to change). */
export function userIds(user: string): { uid: number; gid: number } | undefined {
  const { uid, gid } = identityFor(user);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

export function spawnService({ command, args, logFile, cwd, user, env }: SpawnServiceOptions): ServiceProcess {
  const log = openSync(logFile, 'a');
  const child = (() => {
    try {
      return spawn(command, args, { cwd, env, stdio: ['ignore', log, log], ...identityFor(user) });
    } finally {
      closeSync(log); // the child holds its own copy of the descriptor
    }
  })();

  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitStatus = { code, signal })));
    // spawn failures (e.g. EACCES) surface as 'error' without 'exit'
    child.once('error', () => resolve((exitStatus ??= { code: -1, signal: null })));
  });
  if (child.pid === undefined) throw new Error(`Could not spawn ${command}; see ${logFile}`);

  const service: ServiceProcess = {
    pid: child.pid,
    logFile,
    get exitStatus() {
      return exitStatus;
    },
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (exitStatus) return exitStatus;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (!exitStatus) child.kill('SIGKILL');
      return exited;
    },
  };
  running.add(service);
  void exited.then(() => running.delete(service));
  installExitHook();
  return service;
}

/** Runs a command to completion; a non-zero exit throws with the command's output. */
export function runCommand(
  command: string,
  args: string[],
  { user, cwd, timeoutMs = 60_000 }: { user?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, ...identityFor(user) }, (error, stdout, stderr) => {
      if (error) {
        const output = `${stdout}${stderr}`.trim();
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${output}`));
      } else {
        resolve(`${stdout}${stderr}`);
      }
    });
  });
}

export function tailFile(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Waits until `probe` sees the service ready. Gives up at once if the process exits, and puts the
 * tail of the service's log into the error: that is where "could not bind" or a bad setting is explained.
 */
export async function waitForService<T>(
  service: ServiceProcess,
  description: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  try {
    return await waitUntil(probe, {
      description,
      timeoutMs,
      abortReason: () => {
        const status = service.exitStatus;
        return status && `process ${service.pid} exited (code ${status.code}, signal ${status.signal})`;
      },
    });
  } catch (error) {
    await service.kill();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- last lines of ${service.logFile} ---\n${tailFile(service.logFile)}`);
  }
}

/** `/proc/<pid>/stat` fields after the command name: state, then parent PID. Undefined once gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (Linux /proc); empty where /proc is unavailable. */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e) && procStat(Number(e))?.ppid === pid).map(Number);
}

/**
 * Waits until none of `pids` is running. Used after SIGKILL of a server that forks workers
 * (postgres): the orphans notice their parent's death and exit on their own, and until they have,
 * they still hold the data directory and shared memory. A zombie counts as gone.
 */
export async function waitForPidsToExit(pids: number[], timeoutMs = 10_000): Promise<void> {
  const alive = (pid: number) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.state !== 'Z';
  };
  await waitUntil(async () => !pids.some(alive), { description: `processes ${pids.join(', ')} to exit`, timeoutMs });
}
