import type { Message, RoomSummary } from '@chat/protocol';
import { RecentMessages } from '../src/chat/recent-messages';
import { mentionCounts, roomsChangedSince, withLiveMessages, withLocalReads, withRoomUpdate } from '../src/chat/room-list-cache';

const room = (id: string, lastSeq: number, readSeq: number, unread: number): RoomSummary =>
  ({ id, name: id, type: 'public', createdAt: '2026-12-01T00:00:00.000Z', lastSeq, readSeq, unread }) as RoomSummary;

describe('room list cache', () => {
  test('a fetched list does not bring back a badge this client already read away', () => {
    const fetched = [room('a', 7, 4, 3), room('b', 9, 2, 5), room('c', 3, 3, 0)];
    const local = new Map([
      ['a', 7],
      ['b', 5],
    ]);
    const next = withLocalReads(fetched, (id) => local.get(id) ?? 0);
    expect(next.map((r) => [r.id, r.readSeq, r.unread])).toEqual([
      ['a', 7, 0],
      // Read part of the way: the cursor moves, the count stays the server's (it cannot be recomputed here).
      ['b', 5, 5],
      ['c', 3, 0],
    ]);
  });

  test('hello after a reconnect: the list is fetched again only when its rooms are not the ones the server lists', () => {
    const list = [room('a', 7, 7, 0), room('b', 9, 2, 5)];
    // The same rooms, in another order and with other seqs (news arrive by sync): nothing to fetch.
    expect(roomsChangedSince(list, [{ roomId: 'b' }, { roomId: 'a' }])).toBe(false);
    // Joined while away (a direct room someone opened), left or kicked while away, or one swapped for another.
    expect(roomsChangedSince(list, [{ roomId: 'a' }, { roomId: 'b' }, { roomId: 'c' }])).toBe(true);
    expect(roomsChangedSince(list, [{ roomId: 'a' }])).toBe(true);
    expect(roomsChangedSince(list, [{ roomId: 'a' }, { roomId: 'c' }])).toBe(true);
    expect(roomsChangedSince([], [])).toBe(false);
  });

  test('nothing newer read locally: the very same list, so no re-render and no cache write', () => {
    const fetched = [room('a', 7, 7, 0), room('b', 9, 2, 5)];
    expect(withLocalReads(fetched, (id) => (id === 'b' ? 2 : 0))).toBe(fetched);
  });

  test('room:updated renames the room and sets or clears its topic, leaving the rest of the list as it was', () => {
    const list = [{ ...room('a', 7, 4, 3), topic: 'old topic' }, room('b', 9, 2, 5)];
    const renamed = withRoomUpdate(list, { id: 'a', name: 'Renamed', type: 'public', createdAt: '2026-12-01T00:00:00.000Z' });
    expect(renamed[0]).toEqual({ ...room('a', 7, 4, 3), name: 'Renamed' });
    expect(renamed[1]).toBe(list[1]);
    const topical = withRoomUpdate(renamed, { id: 'a', name: 'Renamed', type: 'public', topic: 'new topic', createdAt: '2026-12-01T00:00:00.000Z' });
    expect(topical[0]).toMatchObject({ name: 'Renamed', topic: 'new topic', unread: 3 });
  });

  test('mention counts come from the fetched list, none for a room read here since', () => {
    const list = [{ ...room('a', 7, 4, 3), mentions: 2 }, { ...room('b', 9, 2, 5), mentions: 0 }, { ...room('c', 5, 5, 0), mentions: 1 }];
    expect(mentionCounts(list)).toEqual({ a: 2 });
    expect(mentionCounts(withLocalReads(list, (id) => (id === 'a' ? 7 : 0)))).toEqual({});
  });

  test('a list the server built before a live message arrived keeps that message: last seq, unread and mention', () => {
    const msg = (roomId: string, seq: number, senderId: string, content: string): Message =>
      ({ id: `${roomId}-${seq}`, roomId, seq, senderId, senderName: senderId, content, createdAt: '2026-12-01T00:00:00.000Z' }) as Message;
    const recent = new RecentMessages();
    recent.add(msg('a', 7, 'bob', 'already in the list'));
    recent.add(msg('a', 8, 'bob', '@alice look'));
    recent.add(msg('a', 9, 'alice', 'my own, @alice'));
    recent.add(msg('b', 3, 'bob', '@alice but this room is on screen'));
    const stale = [room('a', 7, 7, 0), room('b', 2, 2, 0), room('c', 5, 5, 0)];
    const opts = { userId: 'alice', activeRoomId: 'b', username: 'alice' };
    const next = withLiveMessages(stale, (id, seq) => recent.newerThan(id, seq), opts);
    expect(next.map((r) => [r.id, r.lastSeq, r.unread, r.mentions ?? 0, r.lastMessage?.seq])).toEqual([
      ['a', 9, 1, 1, 9],
      ['b', 3, 0, 0, 3],
      ['c', 5, 0, 0, undefined],
    ]);
    expect(mentionCounts(next)).toEqual({ a: 1 });
    // A list that already holds them is left as it is.
    expect(withLiveMessages(next, (id, seq) => recent.newerThan(id, seq), opts)).toBe(next);
  });
});
