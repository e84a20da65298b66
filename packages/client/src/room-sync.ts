import { ChatError, type Hello, type Message, type SyncRequest, type SyncRoomResult } from '@chat/protocol';
import { MessageSequencer } from './message-sequencer';

// A page of sync is at most 50 messages per room; this bounds one catch-up at 10,000 messages per room,
// after which the next reconnect or gap continues from the cursor.
const MAX_SYNC_PAGES = 200;
// Rooms per sync call, so one answer stays far below the 64 KiB-per-packet budget on the way in and
// reasonable on the way out.
const SYNC_ROOMS_PER_CALL = 20;
// Full re-syncs of a gap a correct server never leaves, before its messages are released anyway.
const MAX_GAP_SYNCS = 3;
// How long a gap in live delivery may last before it is synced. Copies cross on the way: our own send's
// acknowledgement overtakes the broadcast of an earlier message in the same batch (the node answers the
// batch's senders before it broadcasts), and on a cluster two nodes' broadcasts of one room may arrive out of
// order. Syncing every such gap at once cost one primary read per send in the benchmark;
// a gap that is real (a broadcast lost while Redis was down) is still filled, this much later.
const GAP_GRACE_MS = 500;

interface RoomSyncOptions {
  /** One `sync` call; the SDK passes `ChatSocket.sync`, so a subclass observes every call. */
  sync: (request: SyncRequest) => Promise<SyncRoomResult[]>;
  /** Messages of one room that became deliverable, in ascending seq (never an empty list). */
  release: (roomId: string, messages: Message[]) => void;
  /** Rooms whose sync (after a connect or a gap) has completed. */
  synced: (roomIds: string[]) => void;
  /** A background sync failed; the next connect or gap tries again from the cursor. */
  error: (error: ChatError) => void;
  /** Restored sync cursors (highest contiguous seq per room) from a previous run. */
  cursors?: Record<string, number>;
}

/**
 * Keeps every joined room caught up: live messages go through the `MessageSequencer`, and a room is
 * synced (in pages, from its cursor) after a connect when the server has news for it, when it is joined,
 * and whenever a seq gap shows that messages are missing.
 */
export class RoomSync {
  private readonly sequencer = new MessageSequencer();
  private readonly pending = new Set<string>();
  private readonly gapSyncs = new Map<string, number>();
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private running = false;
  private closed = false;
  private readonly opts: RoomSyncOptions;

  constructor(opts: RoomSyncOptions) {
    this.opts = opts;
    for (const [roomId, seq] of Object.entries(opts.cursors ?? {})) this.sequencer.seed(roomId, seq);
  }

  /** The sync cursor per room, for the app to persist and pass back as `cursors`. */
  cursors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const roomId of this.sequencer.knownRooms()) {
      const seq = this.sequencer.cursor(roomId);
      if (seq !== undefined) out[roomId] = seq;
    }
    return out;
  }

  /** The rooms a `hello` lists after a connect: syncs those that are behind, forgets those we left. */
  resume(rooms: Hello['rooms']): void {
    const inHello = new Set(rooms.map((r) => r.roomId));
    // Rooms we knew but left while offline.
    for (const roomId of this.sequencer.knownRooms()) if (!inHello.has(roomId)) this.sequencer.forget(roomId);
    const stale: string[] = [];
    for (const { roomId, lastSeq } of rooms) {
      const cursor = this.sequencer.cursor(roomId);
      // Up to date rooms cost nothing: after a mass reconnect, only rooms with news are synced.
      if (cursor === undefined || cursor < lastSeq || this.sequencer.hasGap(roomId)) stale.push(roomId);
    }
    this.request(stale, true);
  }

  /** A live message, or our own acknowledged one (the server may not echo it to this socket). */
  accept(m: Message): void {
    const roomId = m.roomId;
    this.release(roomId, this.sequencer.accept(m));
    if (!this.sequencer.hasGap(roomId)) return;
    // A room without a base yet must be synced; a seq above cursor + 1 is synced if the missing messages
    // have not arrived within the grace period (they usually arrive within milliseconds).
    if (this.sequencer.cursor(roomId) === undefined) {
      this.request([roomId]);
      return;
    }
    if (this.gapTimers.has(roomId)) return;
    this.gapTimers.set(
      roomId,
      setTimeout(() => {
        this.gapTimers.delete(roomId);
        if (!this.closed && this.sequencer.hasGap(roomId)) this.request([roomId]);
      }, GAP_GRACE_MS),
    );
  }

  joined(roomId: string): void {
    this.request([roomId]);
  }

  left(roomId: string): void {
    this.sequencer.forget(roomId);
    this.pending.delete(roomId);
    this.clearGapTimer(roomId);
  }

  /** Ends the sync loop after the call in flight. */
  close(): void {
    this.closed = true;
    for (const roomId of [...this.gapTimers.keys()]) this.clearGapTimer(roomId);
  }

  private clearGapTimer(roomId: string): void {
    clearTimeout(this.gapTimers.get(roomId));
    this.gapTimers.delete(roomId);
  }

  private release(roomId: string, messages: Message[]): void {
    if (messages.length > 0) this.opts.release(roomId, messages);
  }

  private request(roomIds: string[], alwaysReport = false): void {
    for (const id of roomIds) this.pending.add(id);
    if (roomIds.length === 0 && alwaysReport) this.opts.synced([]);
    if (!this.running && this.pending.size > 0) void this.run();
  }

  /** One sync loop per client: a reconnect storm then costs one paged sync per client, not one per gap. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.closed) {
        const batch = [...this.pending].slice(0, SYNC_ROOMS_PER_CALL);
        for (const id of batch) this.pending.delete(id);
        await this.syncRooms(batch);
      }
    } catch (err) {
      this.opts.error(err instanceof ChatError ? err : new ChatError('INTERNAL', String(err)));
    } finally {
      this.running = false;
    }
  }

  private async syncRooms(roomIds: string[]): Promise<void> {
    let open = roomIds;
    for (let page = 0; page < MAX_SYNC_PAGES && open.length > 0; page++) {
      const rooms = open.map((roomId) => {
        const afterSeq = this.sequencer.cursor(roomId);
        // Without afterSeq the server starts at the member's stored delivered cursor.
        return afterSeq === undefined ? { roomId } : { roomId, afterSeq };
      });
      const results = await this.opts.sync({ rooms });
      const next: string[] = [];
      for (const r of results) {
        this.release(r.roomId, this.sequencer.applySync(r.roomId, r.messages, r.lastSeq));
        // A room may come back empty with hasMore when the answer was full (the 1 MiB bound): ask again.
        if (r.hasMore) next.push(r.roomId);
      }
      open = next;
    }
    const done: string[] = [];
    for (const roomId of roomIds) {
      if (!this.sequencer.hasGap(roomId)) {
        this.gapSyncs.delete(roomId);
        done.push(roomId);
        continue;
      }
      const tries = (this.gapSyncs.get(roomId) ?? 0) + 1;
      if (tries < MAX_GAP_SYNCS) {
        this.gapSyncs.set(roomId, tries);
        this.pending.add(roomId);
      } else {
        this.gapSyncs.delete(roomId);
        this.release(roomId, this.sequencer.forceRelease(roomId));
        done.push(roomId);
      }
    }
    this.opts.synced(done);
  }
}
