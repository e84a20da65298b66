import type { IncomingMessage } from 'node:http';

/** NGINX's `$msec`: epoch seconds with a millisecond fraction, as `t=1796412259.544`. */
const STAMP = /^t=(\d{9,11})(?:\.(\d{1,6}))?$/;

/**
 * How long a request waited between the proxy forwarding it and this node reading it, from the
 * `X-Request-Start: t=<$msec>` NGINX puts on every proxied request (the node's accept backlog and its busy
 * event loop both count). `undefined` without a stamp (embedded mode, a direct connection) or with one
 * that does not parse; 0 when the stamp is ahead of this clock (a skewed proxy host).
 */
export function queuedMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : STAMP.exec(value.trim());
  if (!match) return undefined;
  const stampMs = Number(match[1]) * 1000 + Number((match[2] ?? '0').padEnd(3, '0').slice(0, 3));
  return Math.max(0, now - stampMs);
}

export interface HandshakeQueueGuardOptions {
  /** Handshakes that waited longer are refused before any work is done for them; 0 turns refusal off. */
  maxMs: number;
  /** Every stamped handshake's wait, in seconds (the metric). */
  observe: (seconds: number) => void;
  /** A handshake refused for its wait. */
  refused: (waitedMs: number) => void;
  now?: () => number;
}

/**
 * Sheds handshakes that queued too long in front of the node (Engine.IO's `allowRequest`, before the
 * WebSocket upgrade). When a herd reconnects faster than the nodes can answer, the backlog grows until each
 * upgrade is answered after its client gave up (socket.io-client's 20 s connect timeout): the node then
 * spends its time on handshakes nobody waits for, while the clients it could serve wait behind them, and
 * the recovery collapses (docs/performance.md, "Storm: handshakes nobody waits for"). Refusing a stale
 * upgrade costs a 400 and lets its client retry within its back-off window, so the queue stays within
 * `maxMs` and the node's work goes to handshakes whose clients are still there.
 *
 * A client can forge the stamp only to get itself refused: NGINX replaces any `X-Request-Start` it sent.
 */
export function handshakeQueueGuard(opts: HandshakeQueueGuardOptions): (req: IncomingMessage) => boolean {
  const now = opts.now ?? Date.now;
  return (req) => {
    const waited = queuedMs(req.headers['x-request-start'], now());
    if (waited === undefined) return true;
    opts.observe(waited / 1000);
    if (opts.maxMs > 0 && waited > opts.maxMs) {
      opts.refused(waited);
      return false;
    }
    return true;
  };
}
