import type { Message } from '@chat/protocol';
import { buildRows } from '../src/chat/message-rows';
import type { PendingMessage } from '../src/chat/pending-cache';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString();
const msg = (seq: number, senderId: string, minute: number): Message => ({ id: `id${seq}`, roomId: 'r', seq, senderId, senderName: senderId, content: `m${seq}`, createdAt: at(minute) });
const pending = (id: string, minute: number, status: PendingMessage['status'] = 'sending'): PendingMessage => ({ id, roomId: 'r', content: id, createdAt: at(minute), status });

describe('room rows', () => {
  test('a day separator, sender groups within 5 minutes, pending rows after stored ones', () => {
    const rows = buildRows([msg(1, 'bob', 0), msg(2, 'bob', 3), msg(3, 'me', 4), msg(4, 'me', 20)], [pending('p1', 21), pending('p2', 21, 'failed')], 'me');
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'message', 'message', 'message', 'pending', 'pending']);
    expect(rows.filter((r) => r.kind !== 'day').map((r) => ('continued' in r ? r.continued : null))).toEqual([false, true, false, false, true, true]);
    expect(rows[3]).toMatchObject({ kind: 'message', own: true });
  });

  test('a pending row whose message is stored is replaced by it: same id, shown once', () => {
    const rows = buildRows([msg(1, 'me', 0)], [{ ...pending('id1', 0), content: 'm1' }, pending('p2', 1)], 'me');
    expect(rows.map((r) => r.key)).toEqual([expect.stringMatching(/^day:/), 'id1', 'p2']);
  });
});
