import { sql, type DB, type Database, type Kysely } from '@chat/db';
import { ChatError } from '@chat/protocol';
import type { MessageRow } from '../../views/message-view';
import { MembershipRefusal } from './membership-refusal';
import { RateGate } from './rate-gate';

export interface SendRequest {
  id: string;
  roomId: string;
  senderId: string;
  senderName: string;
  content: string;
  replyTo: string | undefined;
  /**
   * The stored row is all the room needs to see (no attachments to add): a writer node that commits this
   * send for another node broadcasts it at once (`SendResult.announced`), one hop sooner than the node it
   * came through could.
   */
  writerAnnounces?: boolean;
}

export interface SendResult {
  row: MessageRow;
  /** False when the id was already stored (a retry): the caller acknowledges but broadcasts nothing. */
  created: boolean;
  /** The writer node that committed it for this node broadcast it already (`SendRequest.writerAnnounces`). */
  announced?: boolean;
}

/** Where a send's time went inside the writer (the latency budget's `queue_wait` and `commit` stages). */
export interface SendTiming {
  /** Submitted until its batch started to commit. */
  queueSeconds: number;
  /** Its batch's statement, sent until answered (a bisected batch: the part that committed it). */
  commitSeconds: number;
}

/** Where a batch goes: one statement on the database (`writeBatch`), or another node's writer. */
export type BatchStore = (reqs: SendRequest[]) => Promise<Outcome[]>;

export interface BatchStats {
  size: number;
  seconds: number;
}

interface Pending {
  req: SendRequest;
  queuedAt: bigint;
  resolve: (r: SendResult & { timing: SendTiming }) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  maxDelayMs: number;
  maxBatch: number;
  /** Batches start at least this far apart (ms) while sends arrive at `minIntervalFromRate` a second or more. */
  minIntervalMs?: number;
  /** Sends per second from which `minIntervalMs` applies (half of it once applying); 0 or absent: always. */
  minIntervalFromRate?: number;
  maxQueue?: number;
  /**
   * Batches committing at once (default 1: the next batch starts when the last one is answered). More
   * than one only where the store itself merges batches (the relay's front: the writer node's own group
   * commit does), so a send need not wait for the round trip of the batch before it.
   */
  maxInFlight?: number;
  /**
   * With `maxInFlight` > 1: a batch's callers are answered only once the batch started before it has
   * answered its own. Two batches that share a room commit in start order (the room lock), so this keeps
   * their broadcasts in seq order even when their answers cross on two connections.
   */
  answerInOrder?: boolean;
  /** The clock of the rate above (tests). */
  now?: () => number;
}

/**
 * Group commit: while a batch commits, arriving sends queue (up to `maxBatch`), and the next batch is the
 * whole queue: batches grow with load by themselves, and an idle node commits a lone send at once (after
 * the current turn of the event loop, or `maxDelayMs` if set); under load (`minIntervalFromRate` sends a
 * second) batches start at least `minIntervalMs` apart, so each carries more. A batch is one statement, one
 * round trip and one transaction (`writeBatch`); callers are answered only after it commits.
 *
 * Why seq is gapless and commit-ordered across nodes: the statement locks each room row (in id order, so
 * two batches never deadlock) before reading anything, allocates a contiguous block with
 * `last_seq = last_seq + k`, and holds the lock until COMMIT. A concurrent batch for the same room waits on
 * that lock and then sees the new last_seq, so its block starts right after ours and commits after ours.
 * Every check that could reject a message runs before allocation, so an allocated seq is always used.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private cancelTimer: (() => void) | undefined;
  /** The batches committing now. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Settles once the last batch started has answered its callers (`answerInOrder`). */
  private answered: Promise<void> = Promise.resolve();
  private closed = false;
  /** When the last batch started (hrtime), undefined before the first. */
  private lastStart: bigint | undefined;
  /** How long the last batch took to commit, in ms (the pace behind a full queue's retry hint). */
  private lastBatchMs = 10;

  private readonly store: BatchStore;
  /** Whether sends arrive fast enough for batches to be spaced by `minIntervalMs`. */
  private readonly busy: RateGate | undefined;

  constructor(
    db: Database | BatchStore,
    private readonly opts: GroupCommitOptions,
    private readonly onBatch: (stats: BatchStats) => void = () => {},
  ) {
    this.store = typeof db === 'function' ? db : (reqs) => writeBatch(db.primary, reqs);
    if ((opts.minIntervalMs ?? 0) > 0) this.busy = new RateGate(opts.minIntervalFromRate ?? 0, opts.now ?? Date.now);
  }

  /** True once `close` was called: new sends are refused. */
  get closing(): boolean {
    return this.closed;
  }

  /** Sends queued for the next batch (not counting the batch committing now). */
  get depth(): number {
    return this.queue.length;
  }

  submit(req: SendRequest): Promise<SendResult & { timing: SendTiming }> {
    if (this.closed) return Promise.reject(new ChatError('UNAVAILABLE', 'node is shutting down'));
    // A bounded queue: when the database falls behind, sends are refused with a hint (the time to commit
    // what is queued, at the last batch's pace) instead of piling up in memory until the node falls over.
    if (this.queue.length >= (this.opts.maxQueue ?? Infinity)) {
      const batches = Math.ceil(this.queue.length / this.opts.maxBatch) + 1;
      const retryAfterMs = Math.min(30_000, Math.max(100, batches * this.lastBatchMs));
      return Promise.reject(new ChatError('UNAVAILABLE', 'too many messages waiting to be stored, try again', { retryAfterMs }));
    }
    this.busy?.count();
    return new Promise((resolve, reject) => {
      this.queue.push({ req, queuedAt: process.hrtime.bigint(), resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything queued and waits for it; later submissions are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      if (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) this.flush();
      await Promise.race(this.inFlight);
    }
  }

  private schedule(): void {
    // While a batch commits, arrivals simply accumulate: the next batch starts when it finishes.
    if (this.inFlight.size >= this.maxInFlight) return;
    if (this.queue.length >= this.opts.maxBatch) {
      this.flush();
      return;
    }
    if (this.cancelTimer) return;
    // Under load (`minIntervalFromRate` sends a second) batches start at least `minIntervalMs` apart, so each
    // carries what arrived in the interval: a statement costs the database far more than a row
    // (docs/performance.md). Below that rate, and after a quiet spell, a send commits at once.
    const interval = this.busy?.open() ? this.opts.minIntervalMs! : 0;
    const sinceLast = this.lastStart === undefined ? Infinity : Number(process.hrtime.bigint() - this.lastStart) / 1e6;
    const wait = Math.max(this.opts.maxDelayMs, interval - sinceLast);
    if (wait < 1) {
      // Even with no wait, let the end of this turn of the event loop pass: sends that arrived in the same
      // read from the network share the batch.
      const immediate = setImmediate(() => this.flush());
      this.cancelTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flush(), wait);
      this.cancelTimer = () => clearTimeout(timer);
    }
  }

  private flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    if (batch.length === 0) return;
    this.lastStart = process.hrtime.bigint();
    const committing: Promise<void> = this.commit(batch, this.opts.answerInOrder ? this.answered : undefined).finally(() => {
      this.inFlight.delete(committing);
      if (this.queue.length > 0) this.schedule();
    });
    this.inFlight.add(committing);
    this.answered = committing;
  }

  private get maxInFlight(): number {
    return this.opts.maxInFlight ?? 1;
  }

  /** Commits `batch`; answers its callers once `after` (the batch before it, when answering in order) has settled. */
  private async commit(batch: Pending[], after: Promise<void> | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    let results: Outcome[];
    try {
      results = await this.store(batch.map((p) => p.req));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // A batch fails as a whole only on what its checks cannot see (an id raced in for another room by
      // another node): halve it until the bad message is alone, so its neighbours still commit.
      const half = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, half), after);
      await this.commit(batch.slice(half), undefined);
      return;
    }
    const commitSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.lastBatchMs = commitSeconds * 1000;
    this.onBatch({ size: batch.length, seconds: commitSeconds });
    // (A batch that failed to answer its callers must not hold back the ones after it.)
    if (after) await after.catch(() => undefined);
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else p.resolve({ ...r, timing: { queueSeconds: Number(started - p.queuedAt) / 1e9, commitSeconds } });
    });
  }
}

/** A send's outcome: stored, or refused (`ChatError`), or failed (another `Error`: the client sees INTERNAL). */
export type Outcome = SendResult | Error;

interface SendRow {
  i: string | number;
  outcome: 'created' | 'stored' | 'conflict' | 'duplicate' | 'no_room' | 'not_member' | 'bad_reply';
  id: string;
  room_id: string;
  seq: string | number;
  sender_id: string;
  sender_name: string | null;
  content: string;
  reply_to: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

/**
 * One batch, one round trip: `chat_send_messages` (db/migrations/0007_send_checks_membership.sql) locks the
 * rooms in id order, classifies every send (new, retry, conflict, repeated in the batch, unknown room, not
 * a member, bad reply), allocates contiguous seq blocks for the new ones and inserts them, in the implicit
 * transaction of that one statement. It locks no member row (the senders' cursors move by their receipts).
 */
async function writeBatch(db: Kysely<DB>, reqs: SendRequest[]): Promise<Outcome[]> {
  // Prepared once per connection (packages/db prepared-statements.ts): most batches under light load are one send.
  const { rows } = await sql<SendRow>`/* prepared: chat_send_messages */ select * from chat_send_messages(
      ${reqs.map((r) => r.id)}::uuid[],
      ${reqs.map((r) => r.roomId)}::text[],
      ${reqs.map((r) => r.senderId)}::text[],
      ${reqs.map((r) => r.content)}::text[],
      ${reqs.map((r) => r.replyTo ?? null)}::uuid[])`.execute(db);
  const out: Outcome[] = rows.map((r, index) => {
    const req = reqs[index]!;
    switch (r.outcome) {
      case 'created':
      case 'stored':
        return {
          created: r.outcome === 'created',
          row: {
            id: r.id,
            room_id: r.room_id,
            seq: Number(r.seq),
            sender_id: r.sender_id,
            sender_name: r.sender_name ?? req.senderName,
            content: r.content,
            reply_to: r.reply_to,
            created_at: r.created_at,
            edited_at: r.edited_at,
            deleted_at: r.deleted_at,
          },
        };
      case 'conflict':
        return new ChatError('CONFLICT', 'message id already used');
      case 'no_room':
        return new MembershipRefusal('NOT_FOUND', 'no such room', req.roomId);
      case 'not_member':
        return new MembershipRefusal('FORBIDDEN', 'not a member of this room', req.roomId);
      case 'bad_reply':
        return new ChatError('NOT_FOUND', 'replyTo is not a message of this room');
      case 'duplicate':
        return undefined as unknown as Outcome; // answered from the first occurrence below
    }
  });
  // A repeated id inside the batch mirrors its first occurrence, without a second broadcast.
  return out.map((o, index) => {
    if (o !== undefined) return o;
    const req = reqs[index]!;
    const firstIndex = reqs.findIndex((r) => r.id === req.id);
    const first = out[firstIndex]!;
    if (first instanceof Error) return first;
    return first.row.sender_id === req.senderId && first.row.room_id === req.roomId
      ? { row: first.row, created: false }
      : new ChatError('CONFLICT', 'message id already used');
  });
}
