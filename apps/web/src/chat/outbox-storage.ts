import type { OutboxItem, OutboxStorage } from '@chat/client';

/** Unsent messages survive a reload; keyed per user so another account on this browser never sends them. */
export class LocalOutboxStorage implements OutboxStorage {
  private readonly key: string;

  constructor(
    private readonly storage: Storage,
    userId: string,
  ) {
    this.key = `chat.outbox.${userId}`;
  }

  load(): OutboxItem[] {
    try {
      const raw = this.storage.getItem(this.key);
      const items: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(items) ? (items as OutboxItem[]) : [];
    } catch {
      return [];
    }
  }

  save(items: OutboxItem[]): void {
    if (items.length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(items));
  }
}
