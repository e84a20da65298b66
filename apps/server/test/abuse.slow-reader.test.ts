import { randomUUID } from 'node:crypto';
import { waitUntil } from '@chat/testkit';
import { collect, createRoom, joinRoom, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// A client that stops reading (issue 9, item 2): the node cuts its socket once the outbound queue passes the
// limit, instead of queueing every broadcast of its rooms without bound; an honest member of the same room
// receives everything, and the cut client only has to reconnect and sync.

const MESSAGES = 1500;
const CONTENT = 'x'.repeat(4000);

describe('a slow reader', () => {
  const node = useNode('postgres', {
    env: { SOCKET_OUTBOUND_MAX_PACKETS: '50', SOCKET_OUTBOUND_MAX_BYTES: String(256 * 1024), MESSAGES_PER_SECOND: '1000000' },
  });

  test('is disconnected when its queue is over the limit; the honest member gets every message', async () => {
    const owner = await registerUser(node, 'owner');
    const slow = await registerUser(node, 'slow');
    const honest = await registerUser(node, 'honest');
    const roomId = await createRoom(node, owner);
    await joinRoom(node, slow, roomId);
    await joinRoom(node, honest, roomId);
    const { socket: sender } = await node.connect(owner.accessToken);
    const { socket: honestSocket } = await node.connect(honest.accessToken);
    const { socket: slowSocket } = await node.connect(slow.accessToken);
    const slowId = await waitUntil(async () => [...node.app.io.of('/').sockets.values()].find((s) => s.data.userId === slow.user.id)?.id, {
      description: 'the slow socket on the node',
    });
    const got = collect(honestSocket, 'message:new');
    const disconnected = new Promise<string>((resolve) => slowSocket.once('disconnect', resolve));
    // Stop reading: the bytes stay in the kernel, then on the node.
    const ws = (slowSocket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws;
    ws._socket.pause();

    // Large messages in waves (the sender's own in-flight cap is 64): several MB to every member.
    for (let sent = 0; sent < MESSAGES; sent += 50) {
      const acks = await Promise.all(Array.from({ length: 50 }, () => sender.emitWithAck('message:send', { id: randomUUID(), roomId, content: CONTENT })));
      expect(acks.every((a) => a.ok)).toBe(true);
    }

    const cut = await waitUntil(async () => ((await node.app.metrics.slowReadersCut.get()).values[0]?.value ?? 0) >= 1, {
      description: 'the node to cut the slow reader',
    });
    expect(cut).toBe(true);
    expect(node.app.io.of('/').sockets.has(slowId)).toBe(false);
    await waitUntil(async () => got.length >= MESSAGES, { description: 'the honest member to receive every message' });
    expect(new Set(got.map((m) => m.id)).size).toBe(MESSAGES);
    expect(honestSocket.connected).toBe(true);
    ws._socket.resume();
    expect(await disconnected).toMatch(/transport close|transport error/);
  }, 120_000);
});
