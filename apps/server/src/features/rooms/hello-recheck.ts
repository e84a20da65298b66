import type { Hello } from '@chat/protocol';

interface Connected {
  /** What the handshake read and the first `hello` said. */
  read: Hello['rooms'];
  /** The socket's rooms at the check (it may have joined some while in its handshake, which `read` missed). */
  rooms: () => string[];
  /** Called when a room's last seq moved since that read, or a room was joined meanwhile: the rooms now, with their last seqs. */
  moved: (now: Hello['rooms']) => void;
}

export interface HelloRecheckOptions {
  /** Sockets connected within this window share one read. */
  windowMs: number;
  /** Each room's last seq now, in the order asked. */
  lastSeqs: (roomIds: readonly string[]) => Promise<number[]>;
  /** At most this many rooms per read; a bigger window is read in several. */
  maxRooms?: number;
  onError: (err: unknown) => void;
}

/**
 * Reads the last seqs of connected sockets' rooms again, after their connect: a message committed after a
 * handshake read the rooms and before the socket was connected reached neither the first `hello` nor the socket,
 * and a room joined meanwhile was neither in `hello` nor announced to it (docs/ARCHITECTURE.md, the handshake
 * step). Only the socket whose rooms moved, or grew, is told, so the read is a check
 * that is almost always negative, and it may come late: the sockets connected within one window share one read
 * (a herd of reconnections costs a query per window and node, not one per socket). Any read after the connect
 * is correct, since what commits later reaches the socket live.
 */
export class HelloRecheck {
  private pending: Connected[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: HelloRecheckOptions) {}

  add(connected: Connected): void {
    if (this.closed) return;
    this.pending.push(connected);
    this.timer ??= setTimeout(() => void this.check(), this.opts.windowMs).unref();
  }

  /** Drops what waits (the node is going away: its sockets with it). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    const batch = this.pending.map((c) => ({ ...c, now: c.rooms() }));
    this.pending = [];
    const roomIds = [...new Set(batch.flatMap((c) => c.now))];
    const max = this.opts.maxRooms ?? 1000;
    const seqs = new Map<string, number>();
    try {
      for (let at = 0; at < roomIds.length; at += max) {
        const chunk = roomIds.slice(at, at + max);
        const now = await this.opts.lastSeqs(chunk);
        chunk.forEach((roomId, i) => seqs.set(roomId, now[i]!));
      }
    } catch (err) {
      if (!this.closed) this.opts.onError(err);
      return;
    }
    for (const { read, now, moved } of batch) {
      const before = new Map(read.map((r) => [r.roomId, r.lastSeq]));
      const rooms = now.map((roomId) => ({ roomId, lastSeq: Math.max(seqs.get(roomId) ?? 0, before.get(roomId) ?? 0) }));
      if (rooms.some((r) => !before.has(r.roomId) || r.lastSeq > before.get(r.roomId)!)) moved(rooms);
    }
  }
}
