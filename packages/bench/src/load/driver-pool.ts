import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@chat/testkit';
import { emptyTimeline, type DriverCommand, type DriverMessage, type DriverStats, type VerifyResult } from './driver-protocol';
import { LogHistogram } from './log-histogram';
import type { LoadUser } from './population';

const DRIVER_ENTRY = path.join(__dirname, 'driver.ts');

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One forked driver process and its outstanding commands. */
class DriverProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: string | undefined;
  readonly ready: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly index: number,
  ) {
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`driver ${index} did not start within 60 s`)), 60_000);
      child.on('message', (message: DriverMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
          return;
        }
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        if (message.type === 'reply') p.resolve(message.result);
        else p.reject(new Error(`driver ${index}: ${message.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.exited = `driver ${index} (pid ${child.pid}) exited with ${signal ?? code}`;
        reject(new Error(this.exited));
        for (const p of this.pending.values()) p.reject(new Error(this.exited));
        this.pending.clear();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<T>(command: DriverCommand, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`driver ${this.index}: no answer to ${command.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...command, id });
    });
  }

  /** Stops the process by its PID: asks first, SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ type: 'close' }, 10_000).catch(() => undefined);
    const timer = setTimeout(() => this.child.pid !== undefined && process.kill(this.child.pid, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/** The driver stats of every process, merged. */
export interface PoolStats {
  perDriver: DriverStats[];
  clients: number;
  connected: number;
  synced: number;
  recovered: number;
  disconnected: number;
  nodes: Record<string, number>;
  counters: DriverStats['counters'];
  connectErrorCodes: Record<string, number>;
  unsyncedStates: Record<string, number>;
  ackErrors: Record<string, number>;
  perSecond: DriverStats['perSecond'];
  slots: DriverStats['slots'];
  histograms: Record<keyof DriverStats['histograms'], LogHistogram>;
  /** The busiest driver's event-loop utilisation since the window opened. */
  maxDriverUtilization: number;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * Load driver processes (child processes running driver.ts under tsx), each driving a share of the
 * clients. Clients are dealt round-robin, so every driver holds every source address and room mix.
 */
export class DriverPool {
  private constructor(private readonly drivers: DriverProcess[]) {}

  /** With `profileDir`, each driver writes a CPU profile of its whole life there when it exits (`--cpu-prof`). */
  static async start(count: number, log: (m: string) => void, profileDir?: string): Promise<DriverPool> {
    const drivers: DriverProcess[] = [];
    for (let i = 0; i < count; i++) {
      const child = fork(DRIVER_ENTRY, [], {
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx', '--max-old-space-size=4096', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      drivers.push(new DriverProcess(child, i));
    }
    const pool = new DriverPool(drivers);
    try {
      await Promise.all(drivers.map((d) => d.ready));
    } catch (err) {
      await pool.stop();
      throw err;
    }
    log(`${count} load driver process(es): pids ${drivers.map((d) => d.pid).join(', ')}`);
    return pool;
  }

  get size(): number {
    return this.drivers.length;
  }

  get pids(): (number | undefined)[] {
    return this.drivers.map((d) => d.pid);
  }

  async init(url: string, users: LoadUser[], ack: { timeoutMs: number; retries: number }, deliveredDebounceMs?: number): Promise<void> {
    const shares = this.drivers.map(() => [] as LoadUser[]);
    users.forEach((u, i) => shares[i % shares.length]!.push(u));
    await Promise.all(
      this.drivers.map((d, i) => d.call({ type: 'init', url, clients: shares[i]!, ackTimeoutMs: ack.timeoutMs, ackRetries: ack.retries, deliveredDebounceMs }, 60_000)),
    );
  }

  /** Connects every client, `perSecond` in all (shared over the drivers; 0 = as fast as they go). */
  async connect(perSecond: number, timeoutMs: number): Promise<{ clients: number; synced: number }> {
    const each = perSecond > 0 ? perSecond / this.drivers.length : 0;
    const results = await Promise.all(
      this.drivers.map((d) => d.call<{ clients: number; synced: number }>({ type: 'connect', perSecond: each, timeoutMs }, timeoutMs + 30_000)),
    );
    return results.reduce((a, b) => ({ clients: a.clients + b.clients, synced: a.synced + b.synced }), { clients: 0, synced: 0 });
  }

  async window(start: number, end: number): Promise<void> {
    await this.all({ type: 'window', start, end }, 10_000);
  }

  async markRecovery(since: number): Promise<void> {
    await this.all({ type: 'mark-recovery', since }, 10_000);
  }

  /** Sends `perSecond` in all over the drivers; resolves when every driver's sends have settled. */
  async send(opts: { startAt: number; durationMs: number; perSecond: number; contentBytes: number; maxOutstanding: number; settleTimeoutMs: number }): Promise<void> {
    const perSecond = opts.perSecond / this.drivers.length;
    await this.all({ type: 'send', ...opts, perSecond }, opts.startAt - Date.now() + opts.durationMs + opts.settleTimeoutMs + 30_000);
  }

  async stopSending(): Promise<void> {
    await this.all({ type: 'send-stop' }, 10_000);
  }

  async stats(): Promise<PoolStats> {
    const perDriver = await this.all<DriverStats>({ type: 'stats' }, 30_000);
    const merged: PoolStats = {
      perDriver,
      clients: 0,
      connected: 0,
      synced: 0,
      recovered: 0,
      disconnected: 0,
      nodes: {},
      counters: { ...perDriver[0]!.counters },
      connectErrorCodes: {},
      unsyncedStates: {},
      ackErrors: {},
      perSecond: emptyTimeline(),
      slots: {},
      histograms: {
        ack: new LogHistogram(),
        delivery: new LogHistogram(),
        deliveryCrossNode: new LogHistogram(),
        deliverySameNode: new LogHistogram(),
        connect: new LogHistogram(),
        recovery: new LogHistogram(),
        lateLiveAge: new LogHistogram(),
      },
      maxDriverUtilization: 0,
    };
    for (const key of Object.keys(merged.counters) as (keyof DriverStats['counters'])[]) merged.counters[key] = 0;
    for (const s of perDriver) {
      merged.clients += s.clients;
      merged.connected += s.connected;
      merged.synced += s.synced;
      merged.recovered += s.recovered;
      merged.disconnected += s.disconnected;
      addCounts(merged.nodes, s.nodes);
      addCounts(merged.counters as unknown as Record<string, number>, s.counters as unknown as Record<string, number>);
      addCounts(merged.connectErrorCodes, s.connectErrorCodes);
      addCounts(merged.unsyncedStates, s.unsyncedStates);
      addCounts(merged.ackErrors, s.ackErrors);
      for (const event of Object.keys(merged.perSecond) as (keyof DriverStats['perSecond'])[]) addCounts(merged.perSecond[event], s.perSecond[event]);
      for (const [slot, d] of Object.entries(s.slots)) {
        const m = (merged.slots[slot] ??= { count: 0, slow: 0, maxMs: 0 });
        m.count += d.count;
        m.slow += d.slow;
        m.maxMs = Math.max(m.maxMs, d.maxMs);
      }
      for (const key of Object.keys(merged.histograms) as (keyof DriverStats['histograms'])[]) merged.histograms[key].merge(s.histograms[key]);
      merged.maxDriverUtilization = Math.max(merged.maxDriverUtilization, s.eventLoopUtilization);
    }
    return merged;
  }

  /** Every acked seq per room, over all drivers (sorted). */
  async acked(): Promise<Record<string, number[]>> {
    const parts = await this.all<Record<string, number[]>>({ type: 'acked' }, 60_000);
    const out: Record<string, number[]> = {};
    for (const part of parts) for (const [room, seqs] of Object.entries(part)) (out[room] ??= []).push(...seqs);
    for (const seqs of Object.values(out)) seqs.sort((a, b) => a - b);
    return out;
  }

  /** Lost = acknowledged messages some member of the room never received, live or by sync. */
  async verify(acked: Record<string, number[]>, settleMs: number): Promise<VerifyResult> {
    const parts = await this.all<VerifyResult>({ type: 'verify', acked, settleMs }, settleMs + 120_000);
    return {
      missingBeforeFinalSync: parts.reduce((n, p) => n + p.missingBeforeFinalSync, 0),
      lost: parts.reduce((n, p) => n + p.lost, 0),
      examples: parts.flatMap((p) => p.examples).slice(0, 10),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.drivers.map((d) => d.stop()));
  }

  private all<T>(command: DriverCommand, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.drivers.map((d) => d.call<T>(command, timeoutMs)));
  }
}
