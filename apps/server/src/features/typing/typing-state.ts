/**
 * Per user and room typing state on this node: at most one `typing: true` broadcast per second, and an
 * expiry that turns typing off 3 s after the last renewal. `typing: false` is always forwarded.
 * The node that received the event owns its expiry timer: if that node dies, clients expire it themselves.
 */
export class TypingState {
  private readonly entries = new Map<string, { lastBroadcastAt: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly coalesceMs: number,
    private readonly expiryMs: number,
    private readonly broadcast: (roomId: string, userId: string, typing: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  set(roomId: string, userId: string, typing: boolean): void {
    const key = `${roomId}\u0000${userId}`;
    const entry = this.entries.get(key);
    if (!typing) {
      if (entry) clearTimeout(entry.timer);
      this.entries.delete(key);
      this.broadcast(roomId, userId, false);
      return;
    }
    const now = this.now();
    const timer = setTimeout(() => {
      this.entries.delete(key);
      this.broadcast(roomId, userId, false);
    }, this.expiryMs);
    timer.unref();
    if (entry) {
      clearTimeout(entry.timer);
      if (now - entry.lastBroadcastAt < this.coalesceMs) {
        this.entries.set(key, { lastBroadcastAt: entry.lastBroadcastAt, timer });
        return;
      }
    }
    this.entries.set(key, { lastBroadcastAt: now, timer });
    this.broadcast(roomId, userId, true);
  }

  /** Turns off every room the user was typing in (their last socket went away). */
  clearUser(userId: string, roomIds: Iterable<string>): void {
    for (const roomId of roomIds) {
      if (this.entries.has(`${roomId}\u0000${userId}`)) this.set(roomId, userId, false);
    }
  }

  close(): void {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }
}
