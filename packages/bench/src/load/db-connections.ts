import { createDatabase, sql, type Database } from '@chat/db';

export interface ConnectionPeaks {
  primary: number;
  replica: number;
  /** Highest primary + replica count seen in one poll. */
  total: number;
  samples: number;
  /** Polls that failed (a server restarting, say). */
  errors: number;
}

/**
 * Polls pg_stat_activity on the primary and the replica every `intervalMs` and keeps the peak number of
 * client connections to the chat database (the poller's own connection excluded): the number the
 * database must be sized for when every node reconnects at once.
 */
export class DbConnectionPoller {
  private readonly peaks: ConnectionPeaks = { primary: 0, replica: 0, total: 0, samples: 0, errors: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private polling: Promise<void> | undefined;

  private constructor(
    private readonly primary: Database,
    private readonly replica: Database | undefined,
    private readonly databaseName: string,
    private readonly intervalMs: number,
  ) {}

  static async start(opts: { primaryUrl: string; replicaUrl?: string; intervalMs?: number; log(m: string): void }): Promise<DbConnectionPoller> {
    const logger = { error: (_obj: unknown, msg?: string) => opts.log(`connection poller: ${msg ?? 'database error'}`) };
    const primary = await createDatabase({ kind: 'postgres', primaryUrl: opts.primaryUrl, poolMax: 1, logger });
    const replica = opts.replicaUrl ? await createDatabase({ kind: 'postgres', primaryUrl: opts.replicaUrl, poolMax: 1, logger }) : undefined;
    const name = new URL(opts.primaryUrl).pathname.slice(1);
    const poller = new DbConnectionPoller(primary, replica, name, opts.intervalMs ?? 250);
    poller.schedule();
    return poller;
  }

  get current(): ConnectionPeaks {
    return { ...this.peaks };
  }

  reset(): void {
    Object.assign(this.peaks, { primary: 0, replica: 0, total: 0, samples: 0, errors: 0 });
  }

  async stop(): Promise<ConnectionPeaks> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await Promise.allSettled([this.primary.close(), this.replica?.close()]);
    return this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    try {
      const [p, r] = await Promise.all([this.count(this.primary), this.replica ? this.count(this.replica) : Promise.resolve(0)]);
      this.peaks.primary = Math.max(this.peaks.primary, p);
      this.peaks.replica = Math.max(this.peaks.replica, r);
      this.peaks.total = Math.max(this.peaks.total, p + r);
      this.peaks.samples++;
    } catch {
      this.peaks.errors++;
    }
  }

  private async count(db: Database): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = ${this.databaseName} and backend_type = 'client backend' and pid <> pg_backend_pid()`.execute(db.primary);
    return rows[0]!.n;
  }
}
