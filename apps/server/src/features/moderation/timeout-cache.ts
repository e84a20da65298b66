import { ChatError } from '@chat/protocol';

/** Active timeouts of one room: user id → end of the timeout, in epoch milliseconds. */
export type RoomTimeouts = Map<string, number>;

interface Entry {
  loadedAt: number;
  until: RoomTimeouts;
}

interface Loading {
  startedAt: number;
  promise: Promise<Entry>;
  /** Timeouts set on this node while the load was in flight: the snapshot may predate their commit. */
  writes: RoomTimeouts;
}

export interface TimeoutCacheOptions {
  /** How stale a room's snapshot may get before it is reloaded: the delay for timeouts set on other nodes. */
  ttlMs?: number;
  /** Rooms kept; the least recently loaded is dropped beyond this. */
  maxRooms?: number;
  now?: () => number;
  onRefreshError?: (roomId: string, err: unknown) => void;
}

/**
 * The per-node view of room timeouts that keeps `message:send` off the database: a room's active timeouts
 * are loaded once, on its first send, and then answered from memory, so the check is a Map lookup.
 *
 * A snapshot older than `ttlMs` is still answered from memory while a reload runs in the background
 * (stale-while-revalidate): a send never waits for the database once its room is loaded, and a timeout
 * set on another node applies here within about `ttlMs`. `invalidate(roomId)` is the seam for a cluster
 * event that makes that immediate; `set` applies a timeout taken on this node at once.
 */
export class TimeoutCache {
  private readonly rooms = new Map<string, Entry>();
  private readonly loading = new Map<string, Loading>();
  private readonly ttlMs: number;
  private readonly maxRooms: number;
  private readonly now: () => number;
  private readonly onRefreshError: (roomId: string, err: unknown) => void;

  constructor(
    private readonly load: (roomId: string) => Promise<RoomTimeouts>,
    opts: TimeoutCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.maxRooms = opts.maxRooms ?? 100_000;
    this.now = opts.now ?? Date.now;
    this.onRefreshError = opts.onRefreshError ?? (() => {});
  }

  /** FORBIDDEN while the user is timed out in the room. Synchronous (O(1)) once the room is loaded. */
  assertCanSend(roomId: string, userId: string): void | Promise<void> {
    const entry = this.rooms.get(roomId);
    if (!entry) return this.reload(roomId).then((loaded) => check(loaded, userId, this.now()));
    const now = this.now();
    if (now - entry.loadedAt >= this.ttlMs && !this.loading.has(roomId)) {
      this.reload(roomId).catch((err: unknown) => this.onRefreshError(roomId, err));
    }
    check(entry, userId, now);
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

  /** Single-flight: concurrent first sends of a room share one query. */
  private reload(roomId: string): Promise<Entry> {
    const inFlight = this.loading.get(roomId);
    if (inFlight) return inFlight.promise;
    const loading: Loading = { startedAt: this.now(), writes: new Map(), promise: undefined as unknown as Promise<Entry> };
    loading.promise = this.load(roomId).then(
      (until) => {
        for (const [userId, untilMs] of loading.writes) until.set(userId, untilMs);
        const entry = { loadedAt: loading.startedAt, until };
        // Only the load still registered may install its snapshot: an invalidation in between wins.
        if (this.loading.get(roomId) === loading) {
          this.loading.delete(roomId);
          this.rooms.delete(roomId);
          this.rooms.set(roomId, entry);
          if (this.rooms.size > this.maxRooms) this.rooms.delete(this.rooms.keys().next().value!);
        }
        return entry;
      },
      (err: unknown) => {
        if (this.loading.get(roomId) === loading) this.loading.delete(roomId);
        throw err;
      },
    );
    this.loading.set(roomId, loading);
    return loading.promise;
  }
}

function check(entry: Entry, userId: string, now: number): void {
  const until = entry.until.get(userId);
  if (until !== undefined && until > now) {
    throw new ChatError('FORBIDDEN', 'timed out in this room', { details: { until: new Date(until).toISOString() } });
  }
}
