import type { DB, Database, Lsn, ReadonlyKysely, RoutedTarget } from '@chat/db';

/** Beyond any real WAL position: no replica qualifies, so the primary answers. */
const PRIMARY_ONLY: Lsn = 1n << 64n;

/**
 * Read-your-writes over streaming replicas (DESIGN.md, "Reads and replicas").
 *
 * After a user's write commits, the node marks the user; that user's reads then go only to a replica that
 * has replayed at least the primary's WAL position taken after the write, else to the primary. The position
 * is fetched lazily, when a marked user reads: writes cost nothing (a chatty user sends many messages and
 * receipts and reads rarely), the first read after them goes to the primary while one query fetches the
 * position for every marked user who read meanwhile, and later reads use replicas that have caught up.
 * A position taken after the write is at or past the write's commit, so it is a safe bound.
 * Marks expire after `ttlMs`: a replica further behind than the router's lag bound is skipped anyway.
 *
 * A change in a room that all its members are told about (a message edited, deleted or reacted to; a member
 * joined, left or changed) fences the room instead (`fenceRooms`): reads of that room (its history, its
 * members, search in it), on every node, then need a replica at or past the primary's position taken after
 * the change, so a member who hears `message:updated` and loads the history never sees the message as it
 * was before.
 *
 * Hand-written because it joins our own pieces (the router's probes, the user identity); no library does it.
 */
export class ReadYourWrites {
  private readonly marks = new Map<string, { lsn: Lsn | undefined; at: number; order: number }>();
  private readonly roomFences = new Map<string, { lsn: Lsn; at: number }>();
  /** Increases with every mark, so a fetch knows which marks were made before it was sent. */
  private order = 0;
  private pending = new Set<string>();
  private inFlight: Promise<void> | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly options: {
      ttlMs?: number;
      onRead?: (target: RoutedTarget<ReadonlyKysely<DB>>) => void;
      onError?: (err: unknown) => void;
      /** Tells the other nodes about a fence (see `fence`). */
      share?: (userIds: readonly string[], lsn: Lsn) => void;
      /** Tells the other nodes about a fence of rooms (see `fenceRooms`). */
      shareRooms?: (roomIds: readonly string[], lsn: Lsn) => void;
    } = {},
  ) {
    this.sweeper = setInterval(() => this.sweep(), this.ttl).unref();
  }

  private get ttl(): number {
    return this.options.ttlMs ?? 30_000;
  }

  /** Call after a write by `userId` has committed, before answering them. */
  noteWrite(userId: string): void {
    if (this.db.kind === 'pglite' || this.db.reads.health().length === 0) return;
    this.marks.set(userId, { lsn: undefined, at: Date.now(), order: ++this.order });
  }

  /**
   * For a write made by someone else that `userIds` will be told about (a membership change): fetches the
   * primary's position now and marks those users here and — through `share` — on every other node, before
   * the caller announces the change. Redis delivers the fence before the announcement that follows it on the
   * same connection, so a user who hears "you joined" and lists their rooms on another node sees the room.
   */
  async fence(userIds: readonly string[]): Promise<void> {
    if (this.db.kind === 'pglite' || this.db.reads.health().length === 0 || userIds.length === 0) return;
    const at = Date.now();
    for (const user of userIds) this.marks.set(user, { lsn: undefined, at, order: ++this.order });
    let lsn: Lsn | undefined;
    try {
      lsn = await this.db.reads.primaryLsn();
    } catch (err) {
      this.options.onError?.(err);
      return; // the local marks stay unknown (primary) until they expire
    }
    if (lsn === undefined) return;
    this.applyFence(userIds, lsn);
    this.options.share?.(userIds, lsn);
  }

  /** A fence from another node: these users read nothing older than `lsn` until the mark expires. */
  applyFence(userIds: readonly string[], lsn: Lsn): void {
    const at = Date.now();
    for (const user of userIds) {
      const mark = this.marks.get(user);
      // An unknown local position means "primary": it stays the stricter of the two.
      if (mark && mark.lsn === undefined) continue;
      this.marks.set(user, { lsn: mark?.lsn !== undefined && mark.lsn > lsn ? mark.lsn : lsn, at, order: ++this.order });
    }
  }

  /**
   * For a change in `roomIds` that their members will be told about (a message edited, deleted or reacted
   * to; a member joined, left or changed): fetches the primary's position now and fences those rooms here
   * and — through `shareRooms` — on every other node, before the caller announces the change (the bus
   * delivers the fence first, as for `fence`). Until the position is known the rooms are read from the
   * primary.
   */
  async fenceRooms(roomIds: readonly string[]): Promise<void> {
    if (this.db.kind === 'pglite' || this.db.reads.health().length === 0 || roomIds.length === 0) return;
    const at = Date.now();
    for (const roomId of roomIds) this.roomFences.set(roomId, { lsn: PRIMARY_ONLY, at });
    let lsn: Lsn | undefined;
    try {
      lsn = await this.db.reads.primaryLsn();
    } catch (err) {
      this.options.onError?.(err);
      return; // the rooms stay on the primary until the fence expires
    }
    if (lsn === undefined) return;
    for (const roomId of roomIds) {
      // Another change's fence may still be fetching; its own announcement waits for it, so this one may
      // replace its "primary" with this position.
      const current = this.roomFences.get(roomId);
      if (!current || current.lsn === PRIMARY_ONLY || current.lsn < lsn) this.roomFences.set(roomId, { lsn, at: Date.now() });
    }
    this.options.shareRooms?.(roomIds, lsn);
  }

  /** A room fence from another node: these rooms are read from nothing older than `lsn` for a while. */
  applyRoomFence(roomIds: readonly string[], lsn: Lsn): void {
    const now = Date.now();
    for (const roomId of roomIds) {
      const current = this.roomFences.get(roomId);
      const live = current && now - current.at <= this.ttl;
      this.roomFences.set(roomId, { lsn: live && current.lsn > lsn ? current.lsn : lsn, at: now });
    }
  }

  /** Where `userId`'s next read goes; given the room it reads, that room's fence applies too. */
  reader(userId: string, roomId?: string): ReadonlyKysely<DB> {
    const now = Date.now();
    const mark = this.marks.get(userId);
    // The oldest WAL position the read may see; undefined: any replica the router accepts.
    let floor: Lsn | undefined;
    if (mark && now - mark.at <= this.ttl) {
      if (mark.lsn === undefined) {
        this.pending.add(userId);
        this.fetch();
      }
      floor = mark.lsn ?? PRIMARY_ONLY;
    }
    const room = roomId === undefined ? undefined : this.roomFences.get(roomId);
    if (room && now - room.at <= this.ttl && (floor === undefined || room.lsn > floor)) floor = room.lsn;
    const target = floor === undefined ? this.db.reads.pick() : this.db.reads.pick(floor);
    this.options.onRead?.(target);
    return target.db;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private fetch(): void {
    if (this.inFlight || this.pending.size === 0) return;
    // Only writes that committed before this query starts are covered by its answer; a mark made later
    // stays unknown (primary) until the user's next read fetches again.
    const users = this.pending;
    this.pending = new Set();
    const sentAfter = this.order;
    this.inFlight = this.db.reads
      .primaryLsn()
      .then(
        (lsn) => {
          for (const user of users) {
            const mark = this.marks.get(user);
            if (mark && mark.lsn === undefined && mark.order <= sentAfter) mark.lsn = lsn ?? 0n;
          }
        },
        // Without a position the marks stay unknown: those users read the primary until they expire.
        (err: unknown) => this.options.onError?.(err),
      )
      .finally(() => {
        this.inFlight = undefined;
        this.fetch();
      });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [user, mark] of this.marks) if (now - mark.at > this.ttl) this.marks.delete(user);
    for (const [room, fence] of this.roomFences) if (now - fence.at > this.ttl) this.roomFences.delete(room);
  }
}
