import type { Socket as NetSocket } from 'node:net';

/** What is read of engine.io's server and its sockets (the `flush`/`drain` events are engine.io's API). */
interface EngineServer {
  on(event: 'flush', listener: (conn: FlushingConnection, packets: unknown[]) => void): unknown;
  on(event: 'drain', listener: (conn: FlushingConnection) => void): unknown;
  off(event: 'flush' | 'drain', listener: (...args: never[]) => void): unknown;
}

interface FlushingConnection {
  transport?: { name?: string; socket?: { _socket?: NetSocket } };
}

/**
 * One system call per flush of a socket's queued packets, not one per packet.
 *
 * engine.io writes a socket's first packet of a turn at once and queues the rest until that write is
 * done; it then flushes the queue (`flush` event), handing the WebSocket one packet after another, and
 * `ws` corks and uncorks the TCP socket around each frame, so each packet still cost its own `writev`. Under
 * load a group commit answers a whole batch in one turn: a member of a busy room gets several messages and
 * receipts at once, and the node's socket writes were half of its busy time (docs/performance.md). Corking
 * the TCP socket from engine.io's `flush` to its `drain` (emitted right after the queue was handed over, in
 * the same call) lets the frames leave in one `writev`. Nothing is delayed: the uncork is synchronous.
 * A flush of one packet is left alone (one frame is one write already). WebSocket transport only: polling
 * answers an HTTP request with its whole payload anyway.
 *
 * Hand-written: neither engine.io nor `ws` coalesces a burst of frames into one write.
 */
export function corkFlushes(engine: EngineServer): () => void {
  let corked: NetSocket | undefined;
  const uncork = (): void => {
    corked?.uncork();
    corked = undefined;
  };
  const onFlush = (conn: FlushingConnection, packets: unknown[]): void => {
    uncork(); // a flush whose drain never came (it threw): never leave a socket corked
    if (packets.length < 2 || conn.transport?.name !== 'websocket') return;
    const raw = conn.transport.socket?._socket;
    if (!raw || raw.destroyed) return;
    raw.cork();
    corked = raw;
  };
  engine.on('flush', onFlush);
  engine.on('drain', uncork);
  return () => {
    uncork();
    engine.off('flush', onFlush);
    engine.off('drain', uncork);
  };
}
