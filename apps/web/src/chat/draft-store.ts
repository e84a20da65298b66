/** What the user typed per room, kept across room switches and reloads (typed text is never lost). */
export class DraftStore {
  private readonly key: string;
  private drafts: Record<string, string>;

  constructor(
    private readonly storage: Storage,
    userId: string,
  ) {
    this.key = `chat.drafts.${userId}`;
    try {
      const raw = storage.getItem(this.key);
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      this.drafts = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
    } catch {
      this.drafts = {};
    }
  }

  get(roomId: string): string {
    const v = this.drafts[roomId];
    return typeof v === 'string' ? v : '';
  }

  set(roomId: string, text: string): void {
    if (text === this.get(roomId)) return;
    if (text) this.drafts[roomId] = text;
    else delete this.drafts[roomId];
    try {
      this.storage.setItem(this.key, JSON.stringify(this.drafts));
    } catch {
      // Storage full or disabled: the draft still lives for this page.
    }
  }
}
