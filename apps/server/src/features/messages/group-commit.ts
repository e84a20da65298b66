import type { DB, Database } from '@chat/db';
import { ChatError } from '@chat/protocol';
import type { Transaction } from 'kysely';
import type { MessageRow } from '../../views/message-view';
import { advanceOwnCursors, allocateSeqBlocks } from './write-statements';

export interface SendRequest {
  id: string;
  roomId: string;
  senderId: string;
  senderName: string;
  content: string;
  replyTo: string | undefined;
}

export interface SendResult {
  row: MessageRow;
  /** False when the id was already stored (a retry): the caller acknowledges but broadcasts nothing. */
  created: boolean;
}

export interface BatchStats {
  size: number;
  seconds: number;
}

interface Pending {
  req: SendRequest;
  resolve: (r: SendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: sends queue for up to `maxDelayMs` (or until `maxBatch` are waiting, or while the previous
 * batch commits) and are written in one transaction, so the database sees one round trip per batch rather
 * than several per message. Callers are answered only after COMMIT.
 *
 * Why seq is gapless and commit-ordered across nodes: the transaction locks each room row (in id order, so
 * two batches never deadlock) before reading anything, allocates a contiguous block with
 * `last_seq = last_seq + k`, and holds the lock until COMMIT. A concurrent batch for the same room waits on
 * that lock and then sees the new last_seq, so its block starts right after ours and commits after ours.
 * Every check that could reject a message runs before allocation, so an allocated seq is always used.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly opts: { maxDelayMs: number; maxBatch: number },
    private readonly onBatch: (stats: BatchStats) => void = () => {},
  ) {}

  submit(req: SendRequest): Promise<SendResult> {
    if (this.closed) return Promise.reject(new ChatError('UNAVAILABLE', 'node is shutting down'));
    return new Promise<SendResult>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything queued and waits for it; later submissions are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight;
    }
  }

  private schedule(): void {
    // While a batch commits, arrivals simply accumulate: the next batch starts when it finishes.
    if (this.inFlight) return;
    if (this.queue.length >= this.opts.maxBatch || this.opts.maxDelayMs === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.maxDelayMs);
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.flush();
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const results = await this.db.primary.transaction().execute((trx) => writeBatch(trx, batch.map((p) => p.req)));
      this.onBatch({ size: batch.length, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
      batch.forEach((p, i) => {
        const r = results[i]!;
        if (r instanceof ChatError) p.reject(r);
        else p.resolve(r);
      });
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One bad message (e.g. an id raced in by another room) must not fail its neighbours: retry each alone.
      for (const p of batch) await this.commit([p]);
    }
  }
}

type Outcome = SendResult | ChatError;

async function writeBatch(trx: Transaction<DB>, reqs: SendRequest[]): Promise<Outcome[]> {
  const out: (Outcome | undefined)[] = new Array(reqs.length);
  const roomIds = [...new Set(reqs.map((r) => r.roomId))].sort();

  // 1. Lock the rooms, in id order.
  const rooms = await trx.selectFrom('rooms').select('id').where('id', 'in', roomIds).orderBy('id').forUpdate().execute();
  const roomExists = new Set(rooms.map((r) => r.id));

  // 2. Ids already stored: a retry of the same sender and room returns the stored message; else CONFLICT.
  const ids = [...new Set(reqs.map((r) => r.id))];
  const stored = await trx
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .selectAll('messages')
    .select('users.display_name as sender_name')
    .where('messages.id', 'in', ids)
    .execute();
  const storedById = new Map(stored.map((m) => [m.id, m]));

  // 3. Reply targets must be messages of the same room (stored, or earlier in this batch).
  const replyIds = [...new Set(reqs.flatMap((r) => (r.replyTo ? [r.replyTo] : [])))];
  const replyRooms = new Map<string, string>();
  if (replyIds.length > 0) {
    const rows = await trx.selectFrom('messages').select(['id', 'room_id']).where('id', 'in', replyIds).execute();
    for (const r of rows) replyRooms.set(r.id, r.room_id);
  }

  const fresh: { index: number; req: SendRequest }[] = [];
  const firstIndexOfId = new Map<string, number>();
  reqs.forEach((req, index) => {
    const existing = storedById.get(req.id);
    if (existing) {
      out[index] =
        existing.sender_id === req.senderId && existing.room_id === req.roomId
          ? { row: existing, created: false }
          : new ChatError('CONFLICT', 'message id already used');
      return;
    }
    if (firstIndexOfId.has(req.id)) return; // a duplicate within this batch: answered from the first below
    if (!roomExists.has(req.roomId)) {
      out[index] = new ChatError('NOT_FOUND', 'no such room');
      return;
    }
    if (req.replyTo && replyRooms.get(req.replyTo) !== req.roomId) {
      out[index] = new ChatError('NOT_FOUND', 'replyTo is not a message of this room');
      return;
    }
    firstIndexOfId.set(req.id, index);
    replyRooms.set(req.id, req.roomId);
    fresh.push({ index, req });
  });

  if (fresh.length > 0) {
    // 4. Allocate a contiguous block of seq per room, in submission order.
    const perRoom = new Map<string, number>();
    for (const f of fresh) perRoom.set(f.req.roomId, (perRoom.get(f.req.roomId) ?? 0) + 1);
    const next = await allocateSeqBlocks(trx, perRoom);

    // 5. One multi-row INSERT.
    const values = fresh.map(({ req }) => {
      const seq = next.get(req.roomId)!;
      next.set(req.roomId, seq + 1);
      return { id: req.id, room_id: req.roomId, seq, sender_id: req.senderId, content: req.content, reply_to: req.replyTo ?? null };
    });
    const inserted = await trx.insertInto('messages').values(values).returning(['id', 'created_at']).execute();
    const createdAt = new Map(inserted.map((r) => [r.id, r.created_at]));

    // 6. A member's own message moves their delivered and read cursors to it.
    await advanceOwnCursors(trx, values);

    fresh.forEach(({ index, req }, i) => {
      const v = values[i]!;
      out[index] = {
        created: true,
        row: {
          id: v.id,
          room_id: v.room_id,
          seq: v.seq,
          sender_id: v.sender_id,
          sender_name: req.senderName,
          content: v.content,
          reply_to: v.reply_to,
          created_at: createdAt.get(v.id)!,
          edited_at: null,
          deleted_at: null,
        },
      };
    });
  }

  // Duplicates within the batch mirror their first occurrence, without a second broadcast.
  return reqs.map((req, index) => {
    const o = out[index];
    if (o) return o;
    const first = out[firstIndexOfId.get(req.id)!]!;
    if (first instanceof ChatError) return first;
    return first.row.sender_id === req.senderId && first.row.room_id === req.roomId
      ? { row: first.row, created: false }
      : new ChatError('CONFLICT', 'message id already used');
  });
}
