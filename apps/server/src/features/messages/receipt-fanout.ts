import type { RoomReceipt } from '@chat/protocol';

export interface MovedReceipts {
  roomId: string;
  receipts: RoomReceipt[];
}

interface ReceiptFanoutOptions {
  windowMs: number;
  /** One `receipts` event to this node's own sockets in the room (never to other nodes'). */
  emitLocal: (roomId: string, receipts: RoomReceipt[]) => void;
  /** This node's moved cursors, once per write, to every other node (the cluster bus). */
  share: (moved: MovedReceipts[]) => void;
  /** Rooms whose events are sent in one turn of the event loop (default 16). */
  roomsPerTurn?: number;
}

/**
 * Delivers the cursors that moved to the sockets that show them, so that receipts cost the same number of
 * socket writes whatever the number of nodes. Each node writes the cursors its own sockets reported
 * (ReceiptCoalescer); were each node to broadcast its share to the whole room, a room whose members sit on
 * k nodes would get k `receipts` events per window, each crossing Redis to the other nodes. Instead every
 * node shares what it wrote with the others in one bus message per write, merges what it hears (the highest
 * cursors per member and room win), and gives its own sockets one `receipts` event per room: when its own
 * write lands, and otherwise at most one window after a share from another node arrives.
 *
 * A write moves the cursors of most rooms at once (every member reports once a window), so its events go
 * out `roomsPerTurn` rooms per turn of the event loop: sends and their acknowledgements are handled between
 * the slices instead of waiting behind one burst of every room's socket writes (docs/performance.md,
 * "A larger young generation, receipts in slices, …").
 */
export class ReceiptFanout {
  private readonly pending = new Map<string, Map<string, RoomReceipt>>();
  private timer: NodeJS.Timeout | undefined;
  /** The next slice of a flush, while one is under way. */
  private next: NodeJS.Immediate | undefined;

  constructor(private readonly opts: ReceiptFanoutOptions) {}

  /** Cursors this node wrote: shared with the others, and sent to this node's sockets now. */
  wrote(moved: MovedReceipts[]): void {
    if (moved.length === 0) return;
    this.opts.share(moved);
    this.merge(moved);
    this.flush();
  }

  /** Cursors another node wrote. */
  heard(moved: MovedReceipts[]): void {
    this.merge(moved);
    this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.next) clearImmediate(this.next);
    this.timer = undefined;
    this.next = undefined;
    this.pending.clear();
  }

  private merge(moved: MovedReceipts[]): void {
    for (const { roomId, receipts } of moved) {
      let room = this.pending.get(roomId);
      if (!room) this.pending.set(roomId, (room = new Map()));
      for (const r of receipts) {
        const known = room.get(r.userId);
        room.set(
          r.userId,
          known ? { userId: r.userId, deliveredSeq: Math.max(known.deliveredSeq, r.deliveredSeq), readSeq: Math.max(known.readSeq, r.readSeq) } : r,
        );
      }
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A flush under way takes what was merged since with its next slices.
    if (!this.next) this.slice();
  }

  /** Sends the events of the first `roomsPerTurn` pending rooms; the rest in the next turn. */
  private readonly slice = (): void => {
    this.next = undefined;
    let left = this.opts.roomsPerTurn ?? 16;
    for (const [roomId, receipts] of this.pending) {
      if (left-- === 0) {
        this.next = setImmediate(this.slice);
        return;
      }
      this.pending.delete(roomId);
      this.opts.emitLocal(roomId, [...receipts.values()]);
    }
  };
}
