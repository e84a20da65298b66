import type { Message } from '@chat/protocol';

const PER_ROOM = 100;

/** The last live messages per room, to close the race between a history request and the socket. */
export class RecentMessages {
  private readonly rooms = new Map<string, Message[]>();

  add(message: Message): void {
    const list = this.rooms.get(message.roomId) ?? [];
    if (list.some((m) => m.id === message.id)) return;
    list.push(message);
    if (list.length > PER_ROOM) list.shift();
    this.rooms.set(message.roomId, list);
  }

  /** The live messages of a room above `seq`, in seq order. */
  newerThan(roomId: string, seq: number): Message[] {
    return (this.rooms.get(roomId) ?? []).filter((m) => m.seq > seq).sort((a, b) => a.seq - b.seq);
  }

  /** `page` plus the recent messages newer than its newest, in seq order. */
  mergeInto(roomId: string, page: Message[]): Message[] {
    const newest = page[page.length - 1]?.seq ?? -1;
    const known = new Set(page.map((m) => m.id));
    const extra = (this.rooms.get(roomId) ?? []).filter((m) => m.seq > newest && !known.has(m.id));
    return extra.length === 0 ? page : [...page, ...extra].sort((a, b) => a.seq - b.seq);
  }
}
