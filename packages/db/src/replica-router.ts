/**
 * Chooses where a read goes: a healthy replica, or the primary.
 *
 * A background probe asks every replica for its replay position (`pg_last_wal_replay_lsn()`) and the primary
 * for its write position; a replica that does not answer, or is further behind than the bound, is skipped
 * until a later probe finds it well again. Read-your-writes: a caller that knows the primary LSN after its
 * own write passes it as `minLsn`, and only a replica whose last probed replay position is at or past it
 * qualifies (the probe's value can only be older than the truth, so the check errs towards the primary).
 */

/** A WAL position as a number (PostgreSQL prints it as `X/Y`, two 32-bit hex halves). */
export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const [hi, lo] = text.split('/');
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export interface ReplicaProbe {
  /** `pg_last_wal_replay_lsn()` and the age of the last replayed transaction, in seconds (null if none). */
  replayPosition(): Promise<{ lsn: Lsn; lastReplayAgeSeconds: number | null }>;
}

export interface ReplicaHealth {
  name: string;
  up: boolean;
  /** Bytes of WAL the replica has yet to replay (null until probed). */
  lagBytes: number | null;
  /** Seconds behind the primary: 0 when caught up, else the age of its last replayed transaction. */
  lagSeconds: number | null;
}

export interface RoutedTarget<T> {
  db: T;
  /** `primary`, or the replica's name. */
  name: string;
  role: 'primary' | 'replica';
}

export interface ReplicaRouterOptions<T> {
  primary: T;
  replicas: { name: string; db: T; probe: ReplicaProbe }[];
  /** The primary's current write position. */
  primaryLsn(): Promise<Lsn>;
  /** A replica further behind than this is skipped. Default 5 s. */
  maxLagSeconds?: number;
  /** How often replicas are probed. Default 500 ms. */
  probeIntervalMs?: number;
  /** A probe that takes longer than this marks the replica down. Default 1000 ms. */
  probeTimeoutMs?: number;
  onProbeError?: (name: string, err: unknown) => void;
}

export interface ReplicaRouter<T> {
  /** The target for a read: a healthy replica at or past `minLsn` (round robin), else the primary. */
  pick(minLsn?: Lsn): RoutedTarget<T>;
  /** The primary's current WAL position, e.g. right after a commit, to pass later as `minLsn`. */
  primaryLsn(): Promise<Lsn>;
  health(): ReplicaHealth[];
  /** Marks a replica down now (e.g. a connection to it failed); the next good probe brings it back. */
  markDown(name: string): void;
  /** Probes every replica once now (also done in the background). */
  probe(): Promise<void>;
  close(): void;
}

interface ReplicaState<T> {
  name: string;
  db: T;
  probe: ReplicaProbe;
  up: boolean;
  replayLsn: Lsn | null;
  lagBytes: number | null;
  lagSeconds: number | null;
}

export function createReplicaRouter<T>(options: ReplicaRouterOptions<T>): ReplicaRouter<T> {
  const maxLagSeconds = options.maxLagSeconds ?? 5;
  const timeoutMs = options.probeTimeoutMs ?? 1000;
  // Replicas start "up" but with an unknown position: until the first probe only reads without a
  // read-your-writes bound go to them.
  const states: ReplicaState<T>[] = options.replicas.map((r) => ({ ...r, up: true, replayLsn: null, lagBytes: null, lagSeconds: null }));
  const primaryTarget: RoutedTarget<T> = { db: options.primary, name: 'primary', role: 'primary' };
  let next = 0;
  let probing: Promise<void> | undefined;

  async function probeAll(): Promise<void> {
    let primaryLsn: Lsn | null = null;
    try {
      primaryLsn = await withTimeout(options.primaryLsn(), timeoutMs);
    } catch (err) {
      options.onProbeError?.('primary', err);
    }
    await Promise.all(
      states.map(async (s) => {
        try {
          const pos = await withTimeout(s.probe.replayPosition(), timeoutMs);
          s.replayLsn = pos.lsn;
          s.lagBytes = primaryLsn === null ? s.lagBytes : Math.max(0, Number(primaryLsn - pos.lsn));
          s.lagSeconds = s.lagBytes === 0 ? 0 : (pos.lastReplayAgeSeconds ?? s.lagSeconds);
          s.up = s.lagSeconds === null || s.lagSeconds <= maxLagSeconds;
        } catch (err) {
          if (s.up) options.onProbeError?.(s.name, err);
          s.up = false;
        }
      }),
    );
  }

  const probe = () => (probing ??= probeAll().finally(() => (probing = undefined)));
  const timer = states.length > 0 ? setInterval(() => void probe(), options.probeIntervalMs ?? 500) : undefined;
  timer?.unref();
  if (states.length > 0) void probe();

  return {
    pick(minLsn) {
      const n = states.length;
      for (let i = 0; i < n; i++) {
        const s = states[(next + i) % n] as ReplicaState<T>;
        if (!s.up) continue;
        if (minLsn !== undefined && (s.replayLsn === null || s.replayLsn < minLsn)) continue;
        next = (next + i + 1) % n;
        return { db: s.db, name: s.name, role: 'replica' };
      }
      return primaryTarget;
    },
    primaryLsn: options.primaryLsn,
    health: () => states.map((s) => ({ name: s.name, up: s.up, lagBytes: s.lagBytes, lagSeconds: s.lagSeconds })),
    markDown(name) {
      const s = states.find((x) => x.name === name);
      if (s) s.up = false;
    },
    probe,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
