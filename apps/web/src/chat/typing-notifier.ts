import { LIMITS } from '@chat/protocol';

// Re-announce before the server's expiry so a steady typist does not flicker for the others.
const REPEAT_MS = LIMITS.typingExpiryMs - 1000;
const IDLE_MS = 2500;

/** Turns keystrokes into few `typing` events: one `true` per window, and `false` after a pause or a send. */
export class TypingNotifier {
  private readonly lastSent = new Map<string, number>();
  private readonly idle = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly send: (roomId: string, typing: boolean) => void) {}

  input(roomId: string): void {
    const now = Date.now();
    if (now - (this.lastSent.get(roomId) ?? 0) >= REPEAT_MS) {
      this.lastSent.set(roomId, now);
      this.send(roomId, true);
    }
    clearTimeout(this.idle.get(roomId));
    this.idle.set(roomId, setTimeout(() => this.stop(roomId), IDLE_MS));
  }

  stop(roomId: string): void {
    clearTimeout(this.idle.get(roomId));
    this.idle.delete(roomId);
    if (!this.lastSent.delete(roomId)) return;
    this.send(roomId, false);
  }

  close(): void {
    for (const t of this.idle.values()) clearTimeout(t);
    this.idle.clear();
  }
}
