import type { Member, Message, Receipt } from '@chat/protocol';

/** Other members' cursors in one room, by user id. */
export type RoomReceipts = Readonly<Record<string, { deliveredSeq: number; readSeq: number }>>;

/** Cursors only move forward (PROTOCOL.md guarantee 4); a late or replayed receipt never moves one back. */
export function withReceipt(receipts: RoomReceipts, r: Receipt): RoomReceipts {
  const prev = receipts[r.userId];
  const deliveredSeq = Math.max(prev?.deliveredSeq ?? 0, r.deliveredSeq, r.readSeq);
  const readSeq = Math.max(prev?.readSeq ?? 0, r.readSeq);
  if (prev && prev.deliveredSeq === deliveredSeq && prev.readSeq === readSeq) return receipts;
  return { ...receipts, [r.userId]: { deliveredSeq, readSeq } };
}

/**
 * Adds what messages prove: a member's own message moves their delivered and read cursors to its seq
 * (PROTOCOL.md, "Own messages"), and the server announces no receipt for that move. So someone who wrote
 * message n has read everything up to n, whether or not a receipt said so (theirs may have been absorbed
 * by that very message, or have come before this page loaded).
 */
export function withImpliedReads(receipts: RoomReceipts, messages: readonly Message[], selfId: string): RoomReceipts {
  const latest = new Map<string, number>();
  for (const m of messages) if (m.senderId !== selfId && m.seq > (latest.get(m.senderId) ?? 0)) latest.set(m.senderId, m.seq);
  let out = receipts;
  for (const [userId, seq] of latest) out = withReceipt(out, { roomId: '', userId, deliveredSeq: seq, readSeq: seq });
  return out;
}

/**
 * Adds the cursors the member list was loaded with (`Member.deliveredSeq`/`readSeq`, as stored when the list
 * was read): after a reload the ticks of older messages show who has read them at once, not at each member's
 * next receipt. A list older than the live receipts moves nothing back (`withReceipt` keeps the higher).
 */
export function withMemberCursors(receipts: RoomReceipts, members: readonly Member[], selfId: string): RoomReceipts {
  let out = receipts;
  for (const m of members) {
    if (m.userId === selfId || m.deliveredSeq === undefined || m.readSeq === undefined) continue;
    out = withReceipt(out, { roomId: '', userId: m.userId, deliveredSeq: m.deliveredSeq, readSeq: m.readSeq });
  }
  return out;
}
