import { sql, type DB, type Kysely } from '@chat/db';
import { ChatError, type RoomReceipt } from '@chat/protocol';

interface CursorEvent {
  roomId: string;
  userId: string;
  read: boolean;
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface MoveRow {
  outcome: 'moved' | 'invalid';
  i: string | number | null;
  room_id: string;
  user_id: string;
  delivered_seq: string | number | null;
  read_seq: string | number | null;
}

/**
 * Delivered and read cursors, coalesced per window: every `message:delivered` / `message:read` that arrives
 * within `windowMs` is validated, merged (the latest value per member and room) and written by one
 * statement, `chat_move_cursors` (db/migrations/0002_write_path.sql), and the rooms whose members' cursors
 * moved are handed on (to ReceiptFanout, which gives each room one `receipts` event per window). So receipts
 * cost one database round trip per window per node, and one event per room per window, instead of a query,
 * a write and a room-wide broadcast per receipt: with every receiver acknowledging every message,
 * per-receipt broadcasts grow with the square of the room size.
 *
 * A caller is answered after the write that carries its event (VALIDATION when its seq is beyond the room's
 * last message), so an acknowledged receipt is stored. No timer runs while nothing is pending.
 */
export class ReceiptCoalescer {
  private pending: CursorEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly windowMs: number,
    /** After each write: every room whose members' cursors moved, with the new cursors. */
    private readonly moved: (rooms: { roomId: string; receipts: RoomReceipt[] }[]) => void,
  ) {}

  update(roomId: string, userId: string, kind: 'delivered' | 'read', seq: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ roomId, userId, read: kind === 'read', seq, resolve, reject });
      this.schedule();
    });
  }

  /** Writes what is pending and waits for it. */
  async close(): Promise<void> {
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = undefined;
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async write(batch: CursorEvent[]): Promise<void> {
    let rows: MoveRow[];
    try {
      ({ rows } = await sql<MoveRow>`select * from chat_move_cursors(
          ${batch.map((e) => e.roomId)}::text[],
          ${batch.map((e) => e.userId)}::text[],
          ${batch.map((e) => e.read)}::boolean[],
          ${batch.map((e) => e.seq)}::bigint[])`.execute(this.db));
    } catch (err) {
      for (const e of batch) e.reject(err);
      return;
    }
    const invalid = new Set<number>();
    const byRoom = new Map<string, RoomReceipt[]>();
    for (const r of rows) {
      if (r.outcome === 'invalid') {
        invalid.add(Number(r.i) - 1);
        continue;
      }
      let list = byRoom.get(r.room_id);
      if (!list) byRoom.set(r.room_id, (list = []));
      list.push({ userId: r.user_id, deliveredSeq: Number(r.delivered_seq), readSeq: Number(r.read_seq) });
    }
    this.moved([...byRoom].map(([roomId, receipts]) => ({ roomId, receipts })));
    batch.forEach((e, index) => {
      if (invalid.has(index)) e.reject(new ChatError('VALIDATION', 'seq is beyond the last message of the room'));
      else e.resolve();
    });
  }
}
