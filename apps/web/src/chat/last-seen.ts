/** "last seen just now / 5 min ago / 3 h ago / on 12 Nov": when an offline member was last connected. */
export function lastSeenText(iso: string, now: number): string {
  const ago = Math.max(0, now - Date.parse(iso));
  const minutes = Math.floor(ago / 60_000);
  if (minutes < 1) return 'last seen just now';
  if (minutes < 60) return `last seen ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `last seen ${hours} h ago`;
  return `last seen on ${new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' }).format(new Date(iso))}`;
}

/**
 * When offline users were last seen, from `presence` events and `presence:get` answers; a small store the
 * member list and the direct room's header read. Unknown (never seen since the servers' presence began)
 * stays unknown: they show as plain "offline".
 */
export class LastSeen {
  private readonly seen = new Map<string, string>();
  private readonly asked = new Set<string>();
  private version = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly fetch: (userIds: string[]) => Promise<{ userId: string; online: boolean; lastSeen?: string }[]>) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Changes whenever any entry does (a snapshot for useSyncExternalStore). */
  current = (): number => this.version;

  of(userId: string): string | undefined {
    return this.seen.get(userId);
  }

  record(userId: string, online: boolean, lastSeen: string | undefined): void {
    if (online || !lastSeen || this.seen.get(userId) === lastSeen) return;
    this.seen.set(userId, lastSeen);
    this.changed();
  }

  /** Asks once for the users not known yet (offline members on screen), at most 100 a call. */
  want(userIds: readonly string[]): void {
    const missing = userIds.filter((id) => !this.seen.has(id) && !this.asked.has(id)).slice(0, 100);
    if (missing.length === 0) return;
    for (const id of missing) this.asked.add(id);
    this.fetch(missing).then(
      (answers) => {
        for (const p of answers) this.record(p.userId, p.online, p.lastSeen);
      },
      // Not connected yet, or refused: ask again next time they are on screen.
      () => {
        for (const id of missing) this.asked.delete(id);
      },
    );
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}
