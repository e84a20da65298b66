import type { Message } from '@chat/protocol';

/** How many delivered ids per room are remembered for de-duplication beyond the seq check. */
const SEEN_IDS_PER_ROOM = 2000;

interface RoomState {
  /** Highest seq delivered with no gap below it; undefined until the first message or sync fixes a base. */
  contiguous: number | undefined;
  /** Messages received ahead of a gap, by seq, waiting for the gap to be filled. */
  held: Map<number, Message>;
  /** Ids already delivered: the last `SEEN_IDS_PER_ROOM` of them. */
  seen: Set<string>;
  /**
   * The same ids in a ring, so the oldest is dropped by position: taking it from the front of an
   * insertion-ordered Map walked every entry deleted before it, up to the size of the table, on each
   * delivery.
   */
  seenRing: string[];
  /** Where the next delivered id goes in `seenRing` (the oldest one is there once the ring is full). */
  seenNext: number;
  /** Seqs given up on by `forceRelease`: if one arrives late it is still delivered rather than lost. */
  skipped: Set<number>;
}

/**
 * Turns live and synced copies of messages into one stream per room: each message once (by id), in
 * ascending seq, with no gaps. `seq` is gapless per room (PROTOCOL.md, guarantee 1), so a message above
 * `contiguous + 1` proves that something is missing; it is held back until a sync fills the gap.
 *
 * Pure and synchronous: every method returns the messages that became deliverable, in order.
 */
export class MessageSequencer {
  private readonly rooms = new Map<string, RoomState>();

  /** The sync cursor of a room: its highest contiguous seq, or undefined if the room has no base yet. */
  cursor(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.contiguous;
  }

  /** Rooms with a known base. */
  knownRooms(): string[] {
    return [...this.rooms].filter(([, s]) => s.contiguous !== undefined).map(([id]) => id);
  }

  /** True when messages are held behind a gap, or the room has no base yet and has messages waiting. */
  hasGap(roomId: string): boolean {
    return (this.rooms.get(roomId)?.held.size ?? 0) > 0;
  }

  /** Sets the cursor of a room restored from storage; ignored once the room has a base. */
  seed(roomId: string, seq: number): Message[] {
    const s = this.state(roomId);
    if (s.contiguous !== undefined) return [];
    s.contiguous = Math.min(seq, this.lowestHeld(s) - 1);
    return this.drain(s);
  }

  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** A live `message:new`. Returns what can be delivered now (possibly nothing, if it is held). */
  accept(message: Message): Message[] {
    const s = this.state(message.roomId);
    this.admit(s, message);
    return this.drain(s);
  }

  /**
   * A page of a `sync` answer for one room. When the room had no base (sync without `afterSeq`, where the
   * server starts at its stored cursor), the base becomes just below the lowest seq seen from any source,
   * or the room's `lastSeq` when there is nothing at all.
   */
  applySync(roomId: string, messages: readonly Message[], lastSeq: number): Message[] {
    const s = this.state(roomId);
    for (const m of messages) this.admit(s, m);
    if (s.contiguous === undefined) s.contiguous = Math.min(lastSeq, this.lowestHeld(s) - 1);
    return this.drain(s);
  }

  /**
   * Delivers whatever is held, in order, skipping the gap. Only for a gap that repeated syncs could not
   * fill (which a correct server never produces): losing order beats never showing the messages.
   */
  forceRelease(roomId: string): Message[] {
    const s = this.rooms.get(roomId);
    if (!s || s.held.size === 0) return [];
    const lowest = this.lowestHeld(s);
    const from = s.contiguous ?? lowest - 1;
    for (let seq = from + 1; seq < lowest; seq++) s.skipped.add(seq);
    s.contiguous = lowest - 1;
    return this.drain(s);
  }

  private admit(s: RoomState, m: Message): void {
    if (s.seen.has(m.id)) return;
    if (s.contiguous !== undefined && m.seq <= s.contiguous) {
      if (!s.skipped.delete(m.seq)) return;
      // A late arrival from a skipped gap: deliver it out of order instead of dropping it.
      s.held.set(m.seq, m);
      return;
    }
    if (!s.held.has(m.seq)) s.held.set(m.seq, m);
  }

  private drain(s: RoomState): Message[] {
    const out: Message[] = [];
    if (s.contiguous === undefined) return out;
    for (const [seq, m] of s.held) {
      if (seq <= s.contiguous) {
        // Only late arrivals of skipped seqs are held at or below the cursor.
        s.held.delete(seq);
        this.deliver(s, m, out);
      }
    }
    for (let next = s.held.get(s.contiguous + 1); next; next = s.held.get(s.contiguous + 1)) {
      s.held.delete(next.seq);
      s.contiguous = next.seq;
      this.deliver(s, next, out);
    }
    return out;
  }

  private deliver(s: RoomState, m: Message, out: Message[]): void {
    const oldest = s.seenRing[s.seenNext];
    if (oldest !== undefined) s.seen.delete(oldest);
    s.seenRing[s.seenNext] = m.id;
    s.seenNext = (s.seenNext + 1) % SEEN_IDS_PER_ROOM;
    s.seen.add(m.id);
    out.push(m);
  }

  private lowestHeld(s: RoomState): number {
    let lowest = Infinity;
    for (const seq of s.held.keys()) if (seq < lowest) lowest = seq;
    return lowest;
  }

  private state(roomId: string): RoomState {
    let s = this.rooms.get(roomId);
    if (!s) {
      s = { contiguous: undefined, held: new Map(), seen: new Set(), seenRing: [], seenNext: 0, skipped: new Set() };
      this.rooms.set(roomId, s);
    }
    return s;
  }
}
