import type { Database } from '@chat/db';
import { sql } from '@chat/db';
import type { Receipt } from '@chat/protocol';

interface PendingCursor {
  roomId: string;
  userId: string;
  delivered: number;
  read: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/**
 * Receipt cursors, coalesced: each member has one delivered_seq and one read_seq. Updates arriving within
 * a short window are merged per member (the highest wins) and written in one statement; cursors only move
 * forward (GREATEST), and only members whose cursor actually moved produce a `receipt`. Callers are answered
 * after the write commits.
 */
export class CursorWriter {
  private pending = new Map<string, PendingCursor>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly delayMs: number,
    private readonly onReceipts: (receipts: Receipt[]) => void,
  ) {}

  update(roomId: string, userId: string, kind: 'delivered' | 'read', seq: number): Promise<void> {
    const key = `${roomId}\u0000${userId}`;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { roomId, userId, delivered: 0, read: 0, waiters: [] }));
    // Read implies delivered.
    p.delivered = Math.max(p.delivered, seq);
    if (kind === 'read') p.read = Math.max(p.read, seq);
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  async close(): Promise<void> {
    while (this.inFlight || this.pending.size > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    if (batch.length === 0) return;
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = undefined;
      if (this.pending.size > 0) this.schedule();
    });
  }

  private async write(batch: PendingCursor[]): Promise<void> {
    try {
      const res = await sql<{ room_id: string; user_id: string; delivered_seq: number; read_seq: number }>`
        update room_members as m
        set delivered_seq = greatest(m.delivered_seq, v.delivered), read_seq = greatest(m.read_seq, v.read)
        from (values ${sql.join(batch.map((c) => sql`(${c.roomId}, ${c.userId}, ${c.delivered}::bigint, ${c.read}::bigint)`))})
          as v(room_id, user_id, delivered, read)
        where m.room_id = v.room_id and m.user_id = v.user_id and m.left_at is null
          and (v.delivered > m.delivered_seq or v.read > m.read_seq)
        returning m.room_id, m.user_id, m.delivered_seq, m.read_seq`.execute(this.db.primary);
      this.onReceipts(
        res.rows.map((r) => ({ roomId: r.room_id, userId: r.user_id, deliveredSeq: Number(r.delivered_seq), readSeq: Number(r.read_seq) })),
      );
      for (const c of batch) for (const w of c.waiters) w.resolve();
    } catch (err) {
      for (const c of batch) for (const w of c.waiters) w.reject(err);
    }
  }
}
