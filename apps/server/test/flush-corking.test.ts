import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { corkFlushes, flushOncePerTurn, type TurnFlushes } from '../src/socket/flush-corking';

/**
 * A burst of packets to one socket in one turn (a group commit's broadcasts) leaves in two writes to the
 * TCP socket, not one per packet: engine.io writes the first at once and flushes the rest together, which
 * `corkFlushes` turns into one `writev`; with `flushOncePerTurn` the first waits for the end of the turn too,
 * and the whole turn leaves in one write. Real Socket.IO server and client; the writes are counted where the
 * TCP socket hands data to the kernel (`_write`/`_writev`).
 */
interface Rig {
  http: HttpServer;
  io: Server;
  client: ClientSocket;
  server: Socket;
  /** With the flush deferred: its handle (`withNextFlush`). */
  flushes: TurnFlushes | undefined;
  /** How held packets left, as `flushOncePerTurn` reported it. */
  left: string[];
  stop: () => void;
}

async function rig(cork: boolean, deferFlush = false, now?: () => number): Promise<Rig> {
  const http = createServer();
  const io = new Server(http);
  const engine = io.engine as unknown as Parameters<typeof corkFlushes>[0];
  const left: string[] = [];
  const flushes = deferFlush ? flushOncePerTurn(engine, { onHeldLeft: (how, sockets) => left.push(`${how} ${sockets}`), ...(now ? { now } : {}) }) : undefined;
  const stops = [cork ? corkFlushes(engine) : () => {}, () => flushes?.stop()];
  const stop = () => stops.forEach((s) => s());
  const connected = new Promise<Socket>((resolve) => io.on('connection', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true });
  return { http, io, client, server: await connected, flushes, left, stop };
}

function countWrites(socket: Socket): () => number {
  const raw = (socket.conn as unknown as { transport: { socket: { _socket: NetSocket } } }).transport.socket._socket as NetSocket & {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  let writes = 0;
  const write = raw._write.bind(raw);
  const writev = raw._writev.bind(raw);
  raw._write = (...args) => {
    writes++;
    write(...args);
  };
  raw._writev = (...args) => {
    writes++;
    writev(...args);
  };
  return () => writes;
}

async function burst(r: Rig, packets: number): Promise<{ writes: number; received: number[] }> {
  const received: number[] = [];
  const all = new Promise<void>((resolve) =>
    r.client.on('n', (n: number) => {
      received.push(n);
      if (received.length === packets) resolve();
    }),
  );
  const writes = countWrites(r.server);
  for (let n = 0; n < packets; n++) r.server.emit('n', n);
  await all;
  return { writes: writes(), received };
}

async function close(r: Rig): Promise<void> {
  r.stop();
  r.client.close();
  await new Promise<void>((resolve) => r.io.close(() => resolve()));
}

describe('corked flushes', () => {
  test('a burst of 6 packets in one turn: 2 writes, every packet delivered in order', async () => {
    const r = await rig(true);
    try {
      const { writes, received } = await burst(r, 6);
      expect(received).toEqual([0, 1, 2, 3, 4, 5]);
      expect(writes).toBe(2);
    } finally {
      await close(r);
    }
  });

  test('without it, one write per packet (what the corking saves)', async () => {
    const r = await rig(false);
    try {
      const { writes, received } = await burst(r, 6);
      expect(received).toEqual([0, 1, 2, 3, 4, 5]);
      expect(writes).toBe(6);
    } finally {
      await close(r);
    }
  });

  test('with the flush deferred to the end of the turn: a burst of 6 packets leaves in 1 write, in order', async () => {
    const r = await rig(true, true);
    try {
      const { writes, received } = await burst(r, 6);
      expect(received).toEqual([0, 1, 2, 3, 4, 5]);
      expect(writes).toBe(1);
    } finally {
      await close(r);
    }
  });

  test("an acknowledgement and a broadcast to the same socket in one turn: 1 write deferred, 2 without", async () => {
    const writesFor = async (deferFlush: boolean): Promise<number> => {
      const r = await rig(true, deferFlush);
      try {
        r.server.on('send', (ack: (answer: string) => void) => {
          ack('ok');
          r.io.emit('new', 1);
        });
        const writes = countWrites(r.server);
        const heard = new Promise<void>((resolve) => r.client.once('new', () => resolve()));
        const answer = await r.client.emitWithAck('send');
        await heard;
        expect(answer).toBe('ok');
        return writes();
      } finally {
        await close(r);
      }
    };
    expect(await writesFor(true)).toBe(1);
    expect(await writesFor(false)).toBe(2);
  });

  test('nothing is held past its turn: a packet of a later turn leaves in its own write', async () => {
    const r = await rig(true, true);
    try {
      const writes = countWrites(r.server);
      const first = new Promise<void>((resolve) => r.client.once('n', () => resolve()));
      r.server.emit('n', 0);
      await first; // delivered before the next packet exists
      const second = new Promise<number>((resolve) => r.client.once('n', resolve));
      r.server.emit('n', 1);
      expect(await second).toBe(1);
      expect(writes()).toBe(2);
    } finally {
      await close(r);
    }
  });

  test('stopped: flushes are no longer corked', async () => {
    const r = await rig(true);
    r.stop();
    try {
      expect((await burst(r, 3)).writes).toBe(3);
    } finally {
      await close(r);
    }
  });
});

describe('packets that wait for the next flush of their socket (withNextFlush)', () => {
  const received = (r: Rig, event: string) => new Promise<number>((resolve) => r.client.once(event, resolve));
  /** Two packets in two turns, each delivered: the socket is busy (two flushes within twice any hold below). */
  const makeBusy = async (r: Rig) => {
    for (const n of [1, 2]) {
      const heard = received(r, 'warm');
      r.server.emit('warm', n);
      await heard;
    }
  };

  test('to a busy socket, a held packet leaves with the next packet of a later turn, in one write and in order', async () => {
    const r = await rig(true, true);
    try {
      await makeBusy(r);
      const writes = countWrites(r.server);
      const order: string[] = [];
      r.client.onAny((event: string) => order.push(event));
      const both = Promise.all([received(r, 'receipts'), received(r, 'n')]);
      r.flushes!.withNextFlush(60_000, () => r.server.emit('receipts', 1));
      // A later turn: without the hold the first packet would have left on its own by now.
      await new Promise((resolve) => setImmediate(resolve));
      r.server.emit('n', 2);
      expect(await both).toEqual([1, 2]);
      expect(order).toEqual(['receipts', 'n']);
      expect(writes()).toBe(1);
      expect(r.left).toEqual(['with_next 1']);
    } finally {
      await close(r);
    }
  });

  test('with nothing after it, a held packet leaves by its deadline, not before', async () => {
    // A stopped clock: the socket stays busy however slowly this machine runs the warm-up (the deadline is a real timer).
    const r = await rig(true, true, () => 0);
    try {
      await makeBusy(r);
      const writes = countWrites(r.server);
      const started = performance.now();
      const heard = received(r, 'receipts');
      r.flushes!.withNextFlush(100, () => r.server.emit('receipts', 1));
      expect(await heard).toBe(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(90);
      expect(writes()).toBe(1);
      expect(r.left).toEqual(['at_deadline 1']);
    } finally {
      await close(r);
    }
  });

  test('a quiet socket is not held: its packet leaves at once', async () => {
    let clock = 0;
    const r = await rig(true, true, () => clock);
    try {
      await makeBusy(r);
      // Its last two flushes are now far older than twice the hold.
      clock += 10 * 60_000;
      const heard = received(r, 'receipts');
      r.flushes!.withNextFlush(60_000, () => r.server.emit('receipts', 1));
      expect(await heard).toBe(1); // within the test timeout, not after the 60 s hold
      expect(r.left).toEqual(['at_once 1']);
    } finally {
      await close(r);
    }
  });

  test('a packet already due in this turn takes the held one along; writes outside the hold are not held', async () => {
    const r = await rig(true, true);
    try {
      await makeBusy(r);
      const writes = countWrites(r.server);
      const both = Promise.all([received(r, 'n'), received(r, 'receipts')]);
      r.server.emit('n', 1);
      r.flushes!.withNextFlush(60_000, () => r.server.emit('receipts', 2));
      expect(await both).toEqual([1, 2]);
      expect(writes()).toBe(1);
      expect(r.left).toEqual([]);
    } finally {
      await close(r);
    }
  });

  test('stopping flushes what is held', async () => {
    const r = await rig(true, true);
    try {
      await makeBusy(r);
      const heard = received(r, 'receipts');
      r.flushes!.withNextFlush(60_000, () => r.server.emit('receipts', 1));
      r.flushes!.stop();
      expect(await heard).toBe(1);
      expect(r.left).toEqual(['at_deadline 1']);
    } finally {
      await close(r);
    }
  });
});
