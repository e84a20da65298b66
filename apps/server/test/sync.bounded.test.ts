import { randomUUID } from 'node:crypto';
import { createRoom, joinRoom, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// One `sync` answer is bounded to 1 MiB (PROTOCOL.md `sync`): rooms past the bound come back short or
// empty with hasMore, and paging from where the answer stopped yields every message once, in order.

const ROOMS = 3;
const PER_ROOM = 50;
const MAX_BYTES = 1024 * 1024;

describe('sync answers are bounded in bytes', () => {
  const node = useNode('postgres', { env: { MESSAGES_PER_SECOND: '1000000' } });

  test('a sync that would carry ~1.8 MiB is cut at 1 MiB and pages to completion without loss or repeats', async () => {
    const sender = await registerUser(node);
    const reader = await registerUser(node);
    const roomIds: string[] = [];
    for (let r = 0; r < ROOMS; r++) {
      const roomId = await createRoom(node, sender, 'public', `big ${r}`);
      await joinRoom(node, reader, roomId);
      roomIds.push(roomId);
    }
    const { socket } = await node.connect(sender.accessToken);
    // 4,000 code points of 3-byte UTF-8 each: ~12 KB per message, ~600 KB per room.
    const content = (i: number) => `${i} `.padEnd(4000, '€');
    for (const roomId of roomIds) {
      const acks = await Promise.all(Array.from({ length: PER_ROOM }, (_, i) => socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: content(i + 1) })));
      expect(acks.every((a) => a.ok)).toBe(true);
    }

    const { socket: r } = await node.connect(reader.accessToken);
    const cursors = new Map(roomIds.map((id) => [id, 0]));
    const seen = new Map(roomIds.map((id) => [id, [] as number[]]));
    const sizes: number[] = [];
    for (let call = 0; call < 20; call++) {
      const open = roomIds.filter((id) => cursors.get(id)! < PER_ROOM);
      if (open.length === 0) break;
      const ack = await r.emitWithAck('sync', { rooms: open.map((roomId) => ({ roomId, afterSeq: cursors.get(roomId)! })) });
      if (!ack.ok) throw new Error(`sync failed: ${ack.error.code}`);
      sizes.push(Buffer.byteLength(JSON.stringify(ack)));
      for (const room of ack.rooms) {
        for (const m of room.messages) seen.get(room.roomId)!.push(m.seq);
        if (room.messages.length > 0) cursors.set(room.roomId, room.messages.at(-1)!.seq);
        expect(room.hasMore).toBe(cursors.get(room.roomId)! < PER_ROOM);
      }
    }
    // The first answer was cut (the whole backlog is ~1.8 MiB), every answer fits, and paging got all of it.
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_BYTES);
    for (const roomId of roomIds) expect(seen.get(roomId)).toEqual(Array.from({ length: PER_ROOM }, (_, i) => i + 1));
  });
});
