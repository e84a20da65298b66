import type { RoomReceipts } from './receipts-cache';

export type DeliveryState = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export interface Delivery {
  state: DeliveryState;
  /** Other members whose read cursor is at or past the message. */
  readBy: number;
  /** Other members in the room (known from the member list; 0 while it loads). */
  others: number;
}

/**
 * The ticks of one of our own stored messages: sent (✓) once acknowledged, delivered (✓✓) once a client of
 * another member acknowledged it, read (blue ✓✓) once another member read it; in a group, "read by N".
 */
export function deliveryOf(seq: number, receipts: RoomReceipts, otherMemberIds: readonly string[]): Delivery {
  let readBy = 0;
  let deliveredTo = 0;
  for (const id of otherMemberIds) {
    const r = receipts[id];
    if (!r) continue;
    if (r.readSeq >= seq) readBy++;
    if (r.deliveredSeq >= seq || r.readSeq >= seq) deliveredTo++;
  }
  const state: DeliveryState = readBy > 0 ? 'read' : deliveredTo > 0 ? 'delivered' : 'sent';
  return { state, readBy, others: otherMemberIds.length };
}

/** Words for screen readers and tooltips. */
export function deliveryLabel(d: Delivery, group: boolean): string {
  switch (d.state) {
    case 'sending':
      return 'Sending';
    case 'failed':
      return 'Not sent';
    case 'sent':
      return 'Sent';
    case 'delivered':
      return 'Delivered';
    case 'read':
      if (!group) return 'Read';
      return d.readBy >= d.others ? 'Read by everyone' : `Read by ${d.readBy}`;
  }
}
