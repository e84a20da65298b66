import { Emitter } from '@chat/client';

export interface Notice {
  id: number;
  text: string;
}

const SHOW_MS = 6000;
const NONE: readonly Notice[] = [];

/** Short-lived messages for failures that have no row of their own to show them on (an edit refused…). */
export class Notices extends Emitter<{ change: () => void }> {
  private list: readonly Notice[] = NONE;
  private next = 1;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  current = (): readonly Notice[] => this.list;

  subscribe = (listener: () => void): (() => void) => this.on('change', listener);

  show(text: string): void {
    const notice = { id: this.next++, text };
    this.list = [...this.list, notice].slice(-3);
    this.emit('change');
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.dismiss(notice.id);
    }, SHOW_MS);
    this.timers.add(t);
  }

  dismiss(id: number): void {
    const next = this.list.filter((n) => n.id !== id);
    if (next.length === this.list.length) return;
    this.list = next.length === 0 ? NONE : next;
    this.emit('change');
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
