import { Emitter } from '@chat/client';
import { LIMITS, type TypingEvent } from '@chat/protocol';

// The server expires `typing: true` itself; this is the fallback for a `false` that never arrives.
const EXPIRY_MS = LIMITS.typingExpiryMs + 1000;
const NOBODY: readonly string[] = [];

/** Who is typing in each room, from others' `typing` events. */
export class TypingTracker extends Emitter<{ change: (roomId: string) => void }> {
  private readonly rooms = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  private readonly snapshots = new Map<string, readonly string[]>();

  constructor(private readonly selfId: string) {
    super();
  }

  /** User ids typing in a room; the same array until it changes (for useSyncExternalStore). */
  typingIn(roomId: string): readonly string[] {
    return this.snapshots.get(roomId) ?? NOBODY;
  }

  apply({ roomId, userId, typing }: TypingEvent): void {
    if (userId === this.selfId) return;
    const users = this.rooms.get(roomId) ?? new Map<string, ReturnType<typeof setTimeout>>();
    this.rooms.set(roomId, users);
    clearTimeout(users.get(userId));
    if (typing) users.set(userId, setTimeout(() => this.apply({ roomId, userId, typing: false }), EXPIRY_MS));
    else if (!users.delete(userId)) return;
    this.snapshots.set(roomId, [...users.keys()]);
    this.emit('change', roomId);
  }

  /** A message from someone ends their typing. */
  stopped(roomId: string, userId: string): void {
    if (this.rooms.get(roomId)?.has(userId)) this.apply({ roomId, userId, typing: false });
  }

  close(): void {
    for (const users of this.rooms.values()) for (const t of users.values()) clearTimeout(t);
    this.rooms.clear();
  }
}
