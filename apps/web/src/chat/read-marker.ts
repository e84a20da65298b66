const DELAY_MS = 300;

/** Read cursors are cumulative: send the highest seq per room, once per short window, never backwards. */
export class ReadMarker {
  private readonly sent = new Map<string, number>();
  private readonly wanted = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (roomId: string, seq: number) => Promise<void>) {}

  read(roomId: string, seq: number): void {
    if (seq <= this.readUpTo(roomId)) return;
    this.wanted.set(roomId, seq);
    this.timer ??= setTimeout(() => this.flush(), DELAY_MS);
  }

  /** The highest seq this client marked read in the room (sent or about to be), 0 if none. */
  readUpTo(roomId: string): number {
    return Math.max(this.sent.get(roomId) ?? 0, this.wanted.get(roomId) ?? 0);
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private flush(): void {
    this.timer = undefined;
    for (const [roomId, seq] of this.wanted) {
      this.sent.set(roomId, seq);
      this.send(roomId, seq).catch(() => this.sent.delete(roomId));
    }
    this.wanted.clear();
  }
}
