import type { Outbox, OutboxItem } from '@chat/client';

const NONE: readonly OutboxItem[] = [];

/** Unsent items per room as stable snapshots, for useSyncExternalStore. */
export class OutboxView {
  private byRoom = new Map<string, readonly OutboxItem[]>();
  private readonly listeners = new Set<() => void>();
  private readonly off: () => void;

  constructor(private readonly outbox: Outbox) {
    this.refresh();
    this.off = outbox.on('change', () => {
      this.refresh();
      for (const listener of this.listeners) listener();
    });
  }

  itemsIn(roomId: string): readonly OutboxItem[] {
    return this.byRoom.get(roomId) ?? NONE;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  close(): void {
    this.off();
  }

  private refresh(): void {
    const next = new Map<string, OutboxItem[]>();
    for (const item of this.outbox.list()) next.set(item.roomId, [...(next.get(item.roomId) ?? []), item]);
    // Rooms whose items did not change keep their array, so their views do not re-render.
    const merged = new Map<string, readonly OutboxItem[]>();
    for (const [roomId, items] of next) {
      const prev = this.byRoom.get(roomId);
      const same = prev && prev.length === items.length && prev.every((p, i) => p.id === items[i]?.id && p.state === items[i]?.state);
      merged.set(roomId, same ? prev : items);
    }
    this.byRoom = merged;
  }
}
