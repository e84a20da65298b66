import { createDatabase, sql } from '@chat/db';
import type { Cleanups } from '../cleanups';
import { DbConnectionPoller } from './db-connections';
import { DriverPool, type PoolStats } from './driver-pool';
import type { VerifyResult } from './driver-protocol';
import type { Percentiles } from './log-histogram';
import type { LoadTarget } from './load-target';
import { slowSlots, type SlowSlot } from './slow-slots';
import { createLoadPopulation, syntheticPopulation, type LoadUser } from './population';
import { sourceAddress } from './source-address';
import { ProcessSampler, usageBetween, type GroupUsage } from './process-usage';

export interface ChatLoadOptions {
  users: number;
  roomSize: number;
  /** Distinct client source addresses 127.0.K.1. */
  sources: number;
  drivers: number;
  /** Sockets per user (tabs): each is a client of its own, from its own source address. */
  socketsPerUser: number;
  /** New connections per second while connecting (0: as fast as the drivers go). */
  connectPerSecond: number;
  connectTimeoutMs: number;
  ack: { timeoutMs: number; retries: number };
  /**
   * The clients' delivery-receipt window (the SDK's `deliveredDebounceMs`: one receipt per room per window, no
   * ack); 0: no receipts; absent: the SDK's default (1 s).
   */
  deliveredDebounceMs?: number;
}

export interface MeasureOptions {
  /** Total sends per second over all clients. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  contentBytes: number;
  /** Sends a client may have unanswered before the driver passes it over. */
  maxOutstanding: number;
  /** How long delivery may take to complete after the last ack before a message counts as missing. */
  settleMs: number;
}

export interface Measurement {
  rate: number;
  windowSeconds: number;
  ackedPerSecond: number;
  deliveriesPerSecond: number;
  ack: Percentiles;
  delivery: Percentiles;
  deliveryCrossNode: Percentiles;
  deliverySameNode: Percentiles;
  verify: VerifyResult;
  /** Stored twice under different ids (content is unique per send), from the primary; undefined without database access. */
  storedDuplicates: number | undefined;
  counters: PoolStats['counters'];
  ackErrors: Record<string, number>;
  usage: Record<string, { cpuPercent: number; rssMiB: number; peakRssMiB: number }>;
  maxDriverUtilization: number;
  nodes: Record<string, number>;
  /**
   * The 100 ms slots of the window whose messages had deliveries slower than 100 ms, the worst
   * `SLOW_SLOTS_KEPT` by that count, in time order (`atSeconds` from the window's start): one stall of the
   * machine or of a process shows as a run of slots, a steady tail as slots spread over the window.
   */
  slowSlots: SlowSlot[];
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export function roundPercentiles(p: Percentiles): Percentiles {
  return { count: p.count, p50: round(p.p50), p95: round(p.p95), p99: round(p.p99), max: round(p.max), mean: round(p.mean) };
}

/** `per` sockets for each user, numbered anew, each from its own source address. */
function expand(users: LoadUser[], per: number, sources: number): LoadUser[] {
  if (per === 1) return users;
  return users.flatMap((u) => Array.from({ length: per }, (_, j) => {
    const index = u.index * per + j;
    return { ...u, index, source: sourceAddress(index, sources) };
  }));
}

/**
 * A population of chatting clients on a target: users signed up and put in rooms, spread over load
 * driver processes and source addresses, connected and synced. `measure()` runs one open-loop send
 * phase and returns latency, throughput, losses and resource use for its window.
 */
export class ChatLoad {
  readonly sampler: ProcessSampler;

  private constructor(
    readonly target: LoadTarget,
    readonly pool: DriverPool,
    readonly options: ChatLoadOptions,
    private readonly stopPool: () => Promise<void>,
  ) {
    this.sampler = new ProcessSampler([...target.groups, { name: 'load drivers', pids: () => pool.pids }], 1000);
  }

  /** Signs the users up, starts the drivers and hands them their clients; nothing is connected yet. */
  static async create(target: LoadTarget, options: ChatLoadOptions, cleanups: Cleanups, log: (m: string) => void): Promise<ChatLoad> {
    const users =
      target.kind === 'ceiling'
        ? syntheticPopulation(options)
        : await createLoadPopulation({ url: target.url, users: options.users, roomSize: options.roomSize, sources: options.sources, log });
    const pool = await DriverPool.start(options.drivers, log, target.driverProfileDir);
    const stopPool = cleanups.add('stop load drivers', () => pool.stop());
    await pool.init(target.url, expand(users, options.socketsPerUser, options.sources), options.ack, options.deliveredDebounceMs);
    const load = new ChatLoad(target, pool, options, stopPool);
    cleanups.add('stop process sampler', async () => load.sampler.stop());
    return load;
  }

  /** `create`, then every client connected and synced. */
  static async prepare(target: LoadTarget, options: ChatLoadOptions, cleanups: Cleanups, log: (m: string) => void): Promise<ChatLoad> {
    const load = await ChatLoad.create(target, options, cleanups, log);
    await load.connectAll(log);
    return load;
  }

  get clients(): number {
    return this.options.users * this.options.socketsPerUser;
  }

  /**
   * Connects every client (paced at connectPerSecond) and waits for its first sync; fails if any is missing,
   * unless `allowMissing` (then `synced` says how many made it).
   */
  async connectAll(log: (m: string) => void, { allowMissing = false }: { allowMissing?: boolean } = {}): Promise<PoolStats & { synced: number }> {
    const clients = this.clients;
    log(`connecting ${clients} clients${this.options.connectPerSecond > 0 ? ` at ${this.options.connectPerSecond}/s` : ''}`);
    const started = Date.now();
    const { synced } = await this.pool.connect(this.options.connectPerSecond, this.options.connectTimeoutMs);
    const stats = await this.pool.stats();
    log(`${synced}/${clients} clients connected and synced in ${((Date.now() - started) / 1000).toFixed(1)} s; per node ${JSON.stringify(stats.nodes)}; connect_error ${JSON.stringify(stats.connectErrorCodes)}${synced < clients ? `; not synced, by state ${JSON.stringify(stats.unsyncedStates)}` : ''}`);
    if (synced < clients && !allowMissing) throw new Error(`only ${synced} of ${clients} clients connected and synced within ${this.options.connectTimeoutMs} ms`);
    return { ...stats, synced };
  }

  async measure(opts: MeasureOptions, log: (m: string) => void): Promise<Measurement> {
    const startAt = Date.now() + 500;
    const windowStart = startAt + opts.warmupMs;
    const windowEnd = windowStart + opts.durationMs;
    await this.pool.window(windowStart, windowEnd);
    let before: Record<string, GroupUsage> = {};
    let after: Record<string, GroupUsage> = {};
    const snapshots = (async () => {
      await sleep(windowStart - Date.now());
      before = this.sampler.snapshot();
      this.sampler.resetPeaks();
      this.target.toggleProfiles();
      await sleep(windowEnd - Date.now());
      this.target.toggleProfiles();
      after = this.sampler.snapshot();
    })();
    log(`sending ${opts.rate}/s: ${opts.warmupMs / 1000} s warm-up + ${opts.durationMs / 1000} s measured`);
    await this.pool.send({
      startAt,
      durationMs: opts.warmupMs + opts.durationMs,
      perSecond: opts.rate,
      contentBytes: opts.contentBytes,
      maxOutstanding: opts.maxOutstanding,
      settleTimeoutMs: this.options.ack.timeoutMs * (this.options.ack.retries + 1) + 5000,
    });
    await snapshots;
    const acked = await this.pool.acked();
    const verify = await this.pool.verify(acked, opts.settleMs);
    const stats = await this.pool.stats();
    const storedDuplicates = await this.storedDuplicates();
    const seconds = opts.durationMs / 1000;
    return {
      rate: opts.rate,
      windowSeconds: seconds,
      ackedPerSecond: round(stats.counters.ackedInWindow / seconds, 1),
      deliveriesPerSecond: round(stats.counters.deliveredInWindow / seconds, 1),
      ack: roundPercentiles(stats.histograms.ack.summary()),
      delivery: roundPercentiles(stats.histograms.delivery.summary()),
      deliveryCrossNode: roundPercentiles(stats.histograms.deliveryCrossNode.summary()),
      deliverySameNode: roundPercentiles(stats.histograms.deliverySameNode.summary()),
      verify,
      storedDuplicates,
      counters: stats.counters,
      ackErrors: stats.ackErrors,
      usage: usageBetween(before, after, seconds),
      maxDriverUtilization: round(stats.maxDriverUtilization),
      nodes: stats.nodes,
      slowSlots: slowSlots(stats.slots, windowStart),
    };
  }

  /** Closes every client and stops the drivers (the target stays up). */
  async close(): Promise<void> {
    this.sampler.stop();
    await this.stopPool();
  }

  /** Database connection peaks while `fn` runs (requires a cluster this run started). */
  async withConnectionPoller<T>(fn: (poller: DbConnectionPoller | undefined) => Promise<T>, log: (m: string) => void): Promise<T> {
    const cluster = this.target.cluster;
    const poller = cluster ? await DbConnectionPoller.start({ primaryUrl: cluster.postgres.primaryUrl, replicaUrl: cluster.postgres.replicaUrl, log }) : undefined;
    try {
      return await fn(poller);
    } finally {
      await poller?.stop();
    }
  }

  /** Messages stored more than once (same content, different ids): each send's content is unique. */
  async storedDuplicates(): Promise<number | undefined> {
    const cluster = this.target.cluster;
    // The ceiling stores nothing.
    if (!cluster || this.target.kind === 'ceiling') return undefined;
    const db = await createDatabase({ kind: 'postgres', primaryUrl: cluster.postgres.primaryUrl, poolMax: 1 });
    try {
      const { rows } = await sql<{ n: number }>`select (count(*) - count(distinct (room_id, content)))::int as n from messages`.execute(db.primary);
      return rows[0]!.n;
    } finally {
      await db.close();
    }
  }
}
