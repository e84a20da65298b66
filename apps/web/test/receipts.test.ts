import type { Member, Message } from '@chat/protocol';
import { deliveryLabel, deliveryOf } from '../src/chat/message-status';
import { withImpliedReads, withMemberCursors, withReceipt, type RoomReceipts } from '../src/chat/receipts-cache';

const r = (userId: string, deliveredSeq: number, readSeq: number) => ({ roomId: 'r', userId, deliveredSeq, readSeq });
const msg = (seq: number, senderId: string): Message => ({ id: `m${seq}`, roomId: 'r', seq, senderId, senderName: senderId, content: 'x', createdAt: new Date(0).toISOString() });

describe('receipts and message states', () => {
  test('cursors only move forward, and read implies delivered', () => {
    let map: RoomReceipts = {};
    map = withReceipt(map, r('bob', 5, 3));
    map = withReceipt(map, r('bob', 4, 2));
    expect(map.bob).toEqual({ deliveredSeq: 5, readSeq: 3 });
    map = withReceipt(map, r('bob', 0, 9));
    expect(map.bob).toEqual({ deliveredSeq: 9, readSeq: 9 });
    // An update that changes nothing keeps the object (React does not re-render).
    expect(withReceipt(map, r('bob', 1, 1))).toBe(map);
  });

  test('sent → delivered → read; in a group, read by N', () => {
    const others = ['bob', 'carol', 'dave'];
    expect(deliveryOf(7, {}, others)).toEqual({ state: 'sent', readBy: 0, others: 3 });
    expect(deliveryOf(7, { bob: { deliveredSeq: 7, readSeq: 0 } }, others).state).toBe('delivered');
    const d = deliveryOf(7, { bob: { deliveredSeq: 9, readSeq: 8 }, carol: { deliveredSeq: 7, readSeq: 7 }, dave: { deliveredSeq: 6, readSeq: 6 } }, others);
    expect(d).toEqual({ state: 'read', readBy: 2, others: 3 });
    expect(deliveryLabel(d, true)).toBe('Read by 2');
    expect(deliveryLabel({ ...d, readBy: 3 }, true)).toBe('Read by everyone');
    expect(deliveryLabel(d, false)).toBe('Read');
    // Cursors of people who left the room (not in the member list) do not count.
    expect(deliveryOf(7, { eve: { deliveredSeq: 9, readSeq: 9 } }, others).state).toBe('sent');
  });

  test('a member who wrote message n has read up to n, without a receipt saying so', () => {
    const messages = [msg(1, 'me'), msg(2, 'bob'), msg(3, 'me'), msg(4, 'carol')];
    const map = withImpliedReads({ bob: { deliveredSeq: 1, readSeq: 1 } }, messages, 'me');
    expect(map).toEqual({ bob: { deliveredSeq: 2, readSeq: 2 }, carol: { deliveredSeq: 4, readSeq: 4 } });
    expect(deliveryOf(3, map, ['bob', 'carol'])).toEqual({ state: 'read', readBy: 1, others: 2 });
  });

  test('the member list cursors count at once, never move a cursor back, and ours are left out', () => {
    const member = (userId: string, cursors?: [number, number]): Member => ({
      userId,
      username: userId,
      displayName: userId,
      role: 'member',
      online: false,
      ...(cursors ? { deliveredSeq: cursors[0], readSeq: cursors[1] } : {}),
    });
    const members = [member('me', [9, 9]), member('bob', [6, 5]), member('carol', [3, 2]), member('dave')];
    const map = withMemberCursors({ carol: { deliveredSeq: 4, readSeq: 4 } }, members, 'me');
    expect(map).toEqual({ bob: { deliveredSeq: 6, readSeq: 5 }, carol: { deliveredSeq: 4, readSeq: 4 } });
    expect(deliveryOf(5, map, ['bob', 'carol', 'dave'])).toEqual({ state: 'read', readBy: 1, others: 3 });
  });
});
