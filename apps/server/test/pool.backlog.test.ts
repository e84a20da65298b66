import { randomUUID } from 'node:crypto';
import type { Message, SyncRequest } from '@chat/protocol';
import { connectRaw, createRoom, http, joinRoom, registerUser, type RawSocket } from './support/harness';
import { useNode } from './support/node-fixture';

// An offline member with thousands of missed messages gets them in pages of at most 50 per room per sync
// call, never the whole backlog at once (a herd of such members must not load whole rooms into memory).

const BACKLOG = { big: 2500, small: 120 };

/**
 * Paging 2,500 messages takes more calls than the sync budget allows in a second: like the SDK, a RATE_LIMITED
 * answer's hint is waited out and the call made again (not counted as a call).
 */
async function syncHonouringBudget(socket: RawSocket, request: SyncRequest) {
  for (;;) {
    const answer = await socket.emitWithAck('sync', request);
    if (answer.ok || answer.error.code !== 'RATE_LIMITED') return answer;
    await new Promise((r) => setTimeout(r, answer.error.retryAfterMs));
  }
}

describe('offline backlog is paged', () => {
  const node = useNode('postgres', { env: { MESSAGES_PER_SECOND: '1000000', SOCKET_EVENTS_IN_FLIGHT_MAX: '1000' } }); // setup sends in bulk
  let receiverToken: string;
  const rooms = { big: '', small: '' };

  beforeAll(async () => {
    const sender = await registerUser(node);
    const receiver = await registerUser(node);
    receiverToken = receiver.accessToken;
    rooms.big = await createRoom(node, sender, 'public', 'big');
    rooms.small = await createRoom(node, sender, 'public', 'small');
    await joinRoom(node, receiver, rooms.big);
    await joinRoom(node, receiver, rooms.small);

    // The receiver is offline while the sender fills both rooms, 250 sends in flight at a time.
    const { socket } = await connectRaw(node, sender.accessToken);
    try {
      for (const [roomId, total] of [
        [rooms.big, BACKLOG.big],
        [rooms.small, BACKLOG.small],
      ] as const) {
        for (let sent = 0; sent < total; sent += 250) {
          const n = Math.min(250, total - sent);
          const acks = await Promise.all(
            Array.from({ length: n }, (_, i) => socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: `m${sent + i + 1}` })),
          );
          expect(acks.every((a) => a.ok)).toBe(true);
        }
      }
    } finally {
      socket.close();
    }
  }, 120_000);

  test('sync pages 50 per room per call, from the delivered cursor, until hasMore is false', async () => {
    const { socket, hello } = await connectRaw(node, receiverToken);
    try {
      expect(Object.fromEntries(hello.rooms.map((r) => [r.roomId, r.lastSeq]))).toEqual({ [rooms.big]: BACKLOG.big, [rooms.small]: BACKLOG.small });

      const received: Record<string, Message[]> = { [rooms.big]: [], [rooms.small]: [] };
      const pageSizes: number[] = [];
      const sync = (request: SyncRequest) => syncHonouringBudget(socket, request);
      // First call names no rooms and no cursors: all rooms, from the stored delivered cursor (0).
      let ack = await sync({});
      let calls = 1;
      for (;;) {
        if (!ack.ok) throw new Error(`sync failed: ${ack.error.code}`);
        for (const r of ack.rooms) {
          pageSizes.push(r.messages.length);
          received[r.roomId]!.push(...r.messages);
        }
        const more = ack.rooms.filter((r) => r.hasMore);
        if (more.length === 0 || calls >= 200) break;
        ack = await sync({ rooms: more.map((r) => ({ roomId: r.roomId, afterSeq: r.messages.at(-1)!.seq })) });
        calls++;
      }

      expect(Math.max(...pageSizes)).toBe(50);
      expect(calls).toBe(BACKLOG.big / 50);
      expect(received[rooms.big]!.map((m) => m.seq)).toEqual(Array.from({ length: BACKLOG.big }, (_, i) => i + 1));
      expect(received[rooms.small]!.map((m) => m.seq)).toEqual(Array.from({ length: BACKLOG.small }, (_, i) => i + 1));
      expect(received[rooms.big]!.at(-1)!.content).toBe(`m${BACKLOG.big}`);
    } finally {
      socket.close();
    }
  });

  test('asking for more than a page is capped, over sync and over history', async () => {
    const { socket } = await connectRaw(node, receiverToken);
    try {
      const ack = await syncHonouringBudget(socket, { rooms: [{ roomId: rooms.big, afterSeq: 0 }], limit: 100_000 });
      if (!ack.ok) throw new Error(`sync failed: ${ack.error.code}`);
      expect(ack.rooms[0]!.messages).toHaveLength(50);
      expect(ack.rooms[0]!.hasMore).toBe(true);
      expect(ack.rooms[0]!.lastSeq).toBe(BACKLOG.big);
    } finally {
      socket.close();
    }
    const history = await http<{ messages: Message[]; hasMore: boolean }>(node.url, 'GET', `/api/rooms/${rooms.big}/messages?limit=100000`, {
      token: receiverToken,
    });
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => BACKLOG.big - 99 + i));
    expect(history.body.hasMore).toBe(true);
  });
});
