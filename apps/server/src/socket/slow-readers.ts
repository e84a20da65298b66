import type { ChatServer } from './types';

export interface SlowReaderLimits {
  /** Packets waiting in the engine's write buffer (the transport could not take them yet). */
  maxQueuedPackets: number;
  /** Bytes the WebSocket has accepted but not yet handed to the kernel. */
  maxBufferedBytes: number;
  intervalMs: number;
}

interface EngineConnection {
  writeBuffer: unknown[];
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/**
 * Disconnects sockets whose outbound data piles up on this node (issue 9, item 2): a client that stops
 * reading (a stalled tab, a bot that never reads, a throttled mobile link) makes every room broadcast queue
 * on the node, first in the kernel, then in the WebSocket's buffer, then in the engine's write buffer,
 * without bound. Every `intervalMs` each local socket's queue is read (two property reads: cheap enough for
 * tens of thousands of sockets); one over a limit is cut at once: the TCP connection is destroyed and the
 * write buffer dropped (a close handshake would wait behind the data the client is not reading). The
 * client sees a lost connection, reconnects with jitter and syncs from its cursors, so it loses nothing.
 * Hand-written because neither Socket.IO nor engine.io bounds a socket's outbound queue.
 */
export function watchSlowReaders(io: ChatServer, limits: SlowReaderLimits, onCut: (queued: { packets: number; bytes: number }) => void): () => void {
  const timer = setInterval(() => {
    for (const socket of io.of('/').sockets.values()) {
      const conn = socket.conn as unknown as EngineConnection;
      const packets = conn.writeBuffer.length;
      const bytes = conn.transport?.socket?.bufferedAmount ?? 0;
      if (packets <= limits.maxQueuedPackets && bytes <= limits.maxBufferedBytes) continue;
      onCut({ packets, bytes });
      conn.transport?.socket?.terminate?.();
      conn.close(true);
    }
  }, limits.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
