import { sql, type DB, type Kysely } from '@chat/db';

export interface SearchIndexMergerOptions {
  /** How often, at most, the pending list is merged; 0 leaves it to PostgreSQL (autovacuum, or an insert over the limit). */
  intervalMs: number;
  onMerged: (result: { pages: number; seconds: number }) => void;
  onError: (err: unknown) => void;
}

/**
 * Merges the full-text index's pending list (db/migrations/0008_search_index_merged_in_background.sql) in
 * the background, so that no send pays for it: new messages enter the GIN index through its pending list,
 * which is cheap per insert, and is merged here about once per interval, in a transaction of its own that
 * locks no room. The list then never reaches gin_pending_list_limit, where an insert (a group-commit batch)
 * would merge it inline.
 *
 * Only a node that stored messages since its last merge asks, and across nodes one merge runs at a time
 * (the function skips when another holds its lock); an idle cluster runs no query.
 */
export class SearchIndexMerger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private due = false;
  private closed = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: SearchIndexMergerOptions,
  ) {}

  /** Messages were committed: a merge is due within the interval (another one, if one is running now). */
  stored(): void {
    if (this.closed || this.options.intervalMs <= 0) return;
    this.due = true;
    if (!this.timer) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.due = false;
      this.running = this.merge().finally(() => {
        this.timer = undefined;
        this.running = undefined;
        // Stored while this merge ran: those entries may have missed it.
        if (this.due && !this.closed) this.arm();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a merge under way (what is still pending is merged by the next node, or by autovacuum). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer && !this.running) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.running;
  }

  private async merge(): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const { rows } = await sql<{ pages: string | number }>`select chat_merge_search_pending() as pages`.execute(this.db);
      const pages = Number(rows[0]?.pages ?? 0);
      // -1: another node was merging; it takes what this node stored too.
      if (pages >= 0) this.options.onMerged({ pages, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    } catch (err) {
      this.options.onError(err);
    }
  }
}
