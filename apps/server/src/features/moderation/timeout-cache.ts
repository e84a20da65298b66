import { ChatError } from '@chat/protocol';

/** Active timeouts of one room: user id → end of the timeout, in epoch milliseconds. */
export type RoomTimeouts = Map<string, number>;

interface Entry {
  loadedAt: number;
  until: RoomTimeouts;
}

interface Loading {
  roomId: string;
  /** When its query was sent (the snapshot's age); undefined while it waits for its batch. */
  startedAt: number | undefined;
  promise: Promise<Entry>;
  resolve: (entry: Entry) => void;
  reject: (err: unknown) => void;
  /** Timeouts set on this node while the load was pending: the snapshot may predate their commit. */
  writes: RoomTimeouts;
  /** A send waits for it: its query goes out at once, ahead of background loads. */
  urgent: boolean;
}

/** Loads the active timeouts of several rooms in one query; a room without any may be left out. */
export type TimeoutLoader = (roomIds: string[]) => Promise<Map<string, RoomTimeouts>>;

export interface TimeoutCacheOptions {
  /** How stale a room's snapshot may get before it is reloaded: the delay for timeouts set on other nodes. */
  ttlMs?: number;
  /**
   * How long a background reload waits for other rooms turning stale, so they share its query. Rooms loaded
   * together turn stale together, so a node's busy rooms settle into one query per `ttlMs`.
   */
  refreshWindowMs?: number;
  /** Rooms in one query at most. */
  maxRoomsPerLoad?: number;
  /** Rooms kept; the least recently loaded is dropped beyond this. */
  maxRooms?: number;
  now?: () => number;
  onRefreshError?: (roomId: string, err: unknown) => void;
  /** Each query sent: how many of its rooms a send waits for, and how many load in the background. */
  onQuery?: (rooms: { send: number; background: number }) => void;
}

/**
 * The per-node view of room timeouts that keeps `message:send` off the database: a room's active timeouts
 * are loaded once, on its first send, and then answered from memory, so the check is a Map lookup.
 *
 * A snapshot older than `ttlMs` is still answered from memory while a reload runs in the background
 * (stale-while-revalidate): a send never waits for the database once its room is loaded, and a timeout
 * set on another node applies here within about `ttlMs + refreshWindowMs`. `invalidate(roomId)` is the
 * seam for a cluster event that makes that immediate; `set` applies a timeout taken on this node at once.
 *
 * Loads are batched: first loads asked in the same turn of the event loop share one query, and background
 * reloads and prefetches wait up to `refreshWindowMs` for other rooms, `maxRoomsPerLoad` rooms a query and
 * one background query a window. One query a room every `ttlMs` on every node
 * was 64 statements a second for 100 busy rooms on 4 nodes (docs/performance.md); batched, it is about one
 * a node per `ttlMs`, whatever the number of rooms.
 */
export class TimeoutCache {
  private readonly rooms = new Map<string, Entry>();
  private readonly loading = new Map<string, Loading>();
  /** Loads waiting for the next query (an invalidated one too: its waiting sends still get an answer). */
  private readonly queued = new Set<Loading>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushSoon: NodeJS.Immediate | undefined;
  private readonly ttlMs: number;
  private readonly refreshWindowMs: number;
  private readonly maxRoomsPerLoad: number;
  private readonly maxRooms: number;
  private readonly now: () => number;
  private readonly onRefreshError: (roomId: string, err: unknown) => void;
  private readonly onQuery: (rooms: { send: number; background: number }) => void;

  constructor(
    private readonly load: TimeoutLoader,
    opts: TimeoutCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.refreshWindowMs = opts.refreshWindowMs ?? 500;
    this.maxRoomsPerLoad = opts.maxRoomsPerLoad ?? 500;
    this.maxRooms = opts.maxRooms ?? 100_000;
    this.now = opts.now ?? Date.now;
    this.onRefreshError = opts.onRefreshError ?? (() => {});
    this.onQuery = opts.onQuery ?? (() => {});
  }

  /** FORBIDDEN while the user is timed out in the room. Synchronous (O(1)) once the room is loaded. */
  assertCanSend(roomId: string, userId: string): void | Promise<void> {
    const entry = this.rooms.get(roomId);
    if (!entry) return this.reload(roomId, true).then((loaded) => check(loaded, userId, this.now()));
    const now = this.now();
    if (now - entry.loadedAt >= this.ttlMs && !this.loading.has(roomId)) {
      this.reload(roomId, false).catch((err: unknown) => this.onRefreshError(roomId, err));
    }
    check(entry, userId, now);
  }

  /**
   * Loads, in the background, the rooms not cached yet: called with a socket's rooms when it connects, so
   * that a room's first send on this node is answered from memory instead of waiting for a query (after a
   * restart, a reconnection storm, or a room's first message here). A send to a room whose prefetch still
   * waits for its window sends the query at once.
   */
  prefetch(roomIds: Iterable<string>): void {
    for (const roomId of roomIds) {
      if (this.rooms.has(roomId) || this.loading.has(roomId)) continue;
      this.reload(roomId, false).catch((err: unknown) => this.onRefreshError(roomId, err));
    }
  }

  /** Records a timeout committed on this node, so it applies to the next send without a reload. */
  set(roomId: string, userId: string, untilMs: number): void {
    this.rooms.get(roomId)?.until.set(userId, untilMs);
    this.loading.get(roomId)?.writes.set(userId, untilMs);
  }

  /** Forgets a room: its next send reloads it. For changes made elsewhere (a cluster event, a lifted timeout). */
  invalidate(roomId: string): void {
    this.rooms.delete(roomId);
    this.loading.delete(roomId);
  }

  /** Forgets every room (after the cluster bus was cut: other nodes' timeouts may not have been heard). */
  invalidateAll(): void {
    this.rooms.clear();
    this.loading.clear();
  }

  /** Node shutdown: no more queries; loads still queued are refused. */
  close(): void {
    this.stopTimers();
    const refused = new Error('timeout cache closed');
    for (const loading of this.queued) {
      if (this.loading.get(loading.roomId) === loading) this.loading.delete(loading.roomId);
      loading.reject(refused);
    }
    this.queued.clear();
  }

  /** Single-flight: sends of a room while it loads share its load. `urgent`: a send waits for it. */
  private reload(roomId: string, urgent: boolean): Promise<Entry> {
    let loading = this.loading.get(roomId);
    if (!loading) {
      let resolve!: (entry: Entry) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<Entry>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      loading = { roomId, startedAt: undefined, promise, resolve, reject, writes: new Map(), urgent };
      this.loading.set(roomId, loading);
      this.queued.add(loading);
    }
    if (loading.startedAt === undefined) {
      loading.urgent ||= urgent;
      this.schedule(urgent);
    }
    return loading.promise;
  }

  private schedule(urgent: boolean): void {
    if (urgent) {
      this.flushSoon ??= setImmediate(() => this.flush());
    } else if (!this.flushSoon && !this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.refreshWindowMs);
      this.flushTimer.unref?.();
    }
  }

  private stopTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = undefined;
    this.flushSoon = undefined;
  }

  private flush(): void {
    this.stopTimers();
    // Loads that sends wait for go first; what does not fit waits for the next query, at once if a send
    // waits for it, else a window later (a connection wave's prefetches must not flood the pool).
    const queued = [...this.queued];
    const batch = [...queued.filter((l) => l.urgent), ...queued.filter((l) => !l.urgent)].slice(0, this.maxRoomsPerLoad);
    for (const loading of batch) this.queued.delete(loading);
    if (this.queued.size > 0) this.schedule([...this.queued].some((l) => l.urgent));
    if (batch.length === 0) return;
    const startedAt = this.now();
    for (const loading of batch) loading.startedAt = startedAt;
    const send = batch.filter((l) => l.urgent).length;
    this.onQuery({ send, background: batch.length - send });
    this.load([...new Set(batch.map((l) => l.roomId))]).then(
      (byRoom) => {
        for (const loading of batch) {
          const { roomId } = loading;
          const until = new Map(byRoom.get(roomId));
          for (const [userId, untilMs] of loading.writes) until.set(userId, untilMs);
          const entry = { loadedAt: startedAt, until };
          // Only the load still registered may install its snapshot: an invalidation in between wins.
          if (this.loading.get(roomId) === loading) {
            this.loading.delete(roomId);
            this.rooms.delete(roomId);
            this.rooms.set(roomId, entry);
            if (this.rooms.size > this.maxRooms) this.rooms.delete(this.rooms.keys().next().value!);
          }
          loading.resolve(entry);
        }
      },
      (err: unknown) => {
        for (const loading of batch) {
          if (this.loading.get(loading.roomId) === loading) this.loading.delete(loading.roomId);
          loading.reject(err);
        }
      },
    );
  }
}

function check(entry: Entry, userId: string, now: number): void {
  const until = entry.until.get(userId);
  if (until !== undefined && until > now) {
    throw new ChatError('FORBIDDEN', 'timed out in this room', { details: { until: new Date(until).toISOString() } });
  }
}
