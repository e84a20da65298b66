import type { Socket as NetSocket } from 'node:net';

/** What is read of engine.io's server and its sockets (the `flush`/`drain`/`connection` events are engine.io's API). */
interface EngineServer {
  on(event: 'flush', listener: (conn: FlushingConnection, packets: unknown[]) => void): unknown;
  on(event: 'drain', listener: (conn: FlushingConnection) => void): unknown;
  on(event: 'connection', listener: (conn: DeferrableConnection) => void): unknown;
  off(event: 'flush' | 'drain' | 'connection', listener: (...args: never[]) => void): unknown;
}

/** An engine.io socket: `flush()` hands its queued packets to the transport (engine.io calls it on every packet). */
interface DeferrableConnection {
  flush?: () => void;
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

/**
 * One flush of a socket's queue per turn of the event loop, instead of one for the turn's first packet and one more
 * for the rest.
 *
 * engine.io flushes on every packet: the first packet of a turn goes to the transport at once, and the transport is
 * then busy until that write's callback, so the turn's other packets wait and leave in a second flush (corked by
 * `corkFlushes` into one `writev`). A socket that gets two packets in a turn (the sender's acknowledgement and the
 * broadcast of the same message, a message and a `receipts` event, the handshake's `hello` after Socket.IO's
 * CONNECT, two messages of one group commit) paid two system calls. Deferring each socket's flush to
 * `process.nextTick` (once the code that is writing has returned; when that code is a promise continuation, after
 * the continuations queued with it) hands the transport the turn's whole queue once, corked into one write. Nothing
 * waits for another turn: the tick runs before the event loop does any I/O. engine.io's own calls (a packet sent, the transport ready again) go through
 * the deferred flush, so the queue and its order are engine.io's as before. A socket opened before this is
 * attached, or of another shape after an upgrade, is left as it is.
 *
 * Hand-written: neither engine.io nor Socket.IO has an option to batch a turn's packets per socket.
 */
export function flushOncePerTurn(engine: EngineServer, opts: TurnFlushOptions = {}): TurnFlushes {
  const { onHeldLeft = () => {}, now = () => performance.now() } = opts;
  /** Inside `withNextFlush`: a socket's flush is held, not scheduled. */
  let holding: number | undefined;
  /** Sockets holding packets, each with its flush; all flushed by the earliest deadline among them. */
  const held = new Map<DeferrableConnection, () => void>();
  let timer: NodeJS.Timeout | undefined;
  let deadline = Number.POSITIVE_INFINITY;
  const flushHeld = (): void => {
    timer = undefined;
    deadline = Number.POSITIVE_INFINITY;
    const runs = [...held.values()];
    held.clear();
    if (runs.length > 0) onHeldLeft('at_deadline', runs.length);
    for (const run of runs) run();
  };
  const hold = (conn: DeferrableConnection, run: () => void, maxDelayMs: number): void => {
    if (held.has(conn)) return;
    held.set(conn, run);
    const due = now() + maxDelayMs;
    if (due >= deadline) return;
    if (timer) clearTimeout(timer);
    deadline = due;
    timer = setTimeout(flushHeld, maxDelayMs);
  };
  const onConnection = (conn: DeferrableConnection): void => {
    const flushNow = conn.flush;
    if (typeof flushNow !== 'function') return;
    let due = false;
    /** When this socket's last two flushes were scheduled: two within twice a hold make it busy. */
    let lastFlush = Number.NEGATIVE_INFINITY;
    let flushBefore = Number.NEGATIVE_INFINITY;
    const run = (): void => {
      due = false;
      flushNow.call(conn);
    };
    conn.flush = () => {
      if (due) return;
      if (holding !== undefined) {
        if (held.has(conn)) return;
        // A busy socket's next packet is near: wait for it. A quiet one's may be minutes away, and its user is
        // the one watching the ticks of a message just sent: at once, as without the hold.
        if (now() - flushBefore <= 2 * holding) {
          hold(conn, run, holding);
          return;
        }
        onHeldLeft('at_once', 1);
      } else if (held.size > 0 && held.delete(conn)) {
        // A held packet leaves with this flush: nothing left to flush at the deadline.
        onHeldLeft('with_next', 1);
      }
      flushBefore = lastFlush;
      lastFlush = now();
      due = true;
      process.nextTick(run);
    };
  };
  engine.on('connection', onConnection);
  return {
    withNextFlush(maxDelayMs, write) {
      holding = maxDelayMs;
      try {
        write();
      } finally {
        holding = undefined;
      }
    },
    stop() {
      engine.off('connection', onConnection);
      if (timer) clearTimeout(timer);
      flushHeld();
    },
  };
}

export interface TurnFlushOptions {
  /**
   * Sockets whose packets written under `withNextFlush` left: held, then with their next flush or at the deadline
   * (or at stop); or at once, not held, because the socket was quiet.
   */
  onHeldLeft?: (left: 'with_next' | 'at_deadline' | 'at_once', sockets: number) => void;
  /** Milliseconds on a monotonic clock (tests give their own). */
  now?: () => number;
}

/** `flushOncePerTurn`'s handle. */
export interface TurnFlushes {
  /**
   * Packets written to busy sockets during `write` (synchronously) do not flush their socket: they wait in its queue
   * and leave with its next flush (a message, an acknowledgement, a ping) in the same system call, or `maxDelayMs`
   * later at the latest. A socket is busy when its last two flushes were scheduled within `2 × maxDelayMs`; a quiet
   * socket is flushed at once, as without this. A socket whose flush is already due this turn sends them in it, as
   * any packet. For events whose timing matters less than their cost: the `receipts` fan-out, otherwise a socket
   * write of its own (with NGINX's and the client's reads behind it) per member and room every window
   * (docs/performance.md, "Receipts ride with messages").
   */
  withNextFlush(maxDelayMs: number, write: () => void): void;
  /** Detaches from the engine and flushes what is held. */
  stop(): void;
}
