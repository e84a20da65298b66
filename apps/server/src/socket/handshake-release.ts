import type { Socket as NetSocket } from 'node:net';
import type { ChatSocket } from './types';

/** Shared by every connected socket's released handshake: one empty object, never written. */
const NOTHING = Object.freeze({});

/**
 * The `close` listener engine.io's `WebSocketResponse` adds to the TCP socket (engine.io 6, `build/server.js`:
 * `() => this.emit("close")`), by its source text, whitespace aside: the server's bundle prints it without spaces.
 */
export function isEngineResponseClose(source: string): boolean {
  return source.replace(/\s+/g, '') === '()=>this.emit("close")';
}

/**
 * Drops what a connected socket would otherwise keep of its handshake for its whole life, none of which is
 * read once it is connected (docs/performance.md, "An idle socket's handshake, released"):
 *
 * - the upgrade request (`http.IncomingMessage`: its raw and parsed headers, query, URL, stream state). Two
 *   things hold it: engine.io's socket (`conn.request`, Socket.IO's "Memory usage" advice), and the stand-in
 *   response engine.io builds for an upgrade (`WebSocketResponse`), reachable from the `close` listener it
 *   adds to the TCP socket to forward `close` to engine.io middlewares, which this server does not use;
 * - in Socket.IO's `socket.handshake`: the headers, query, URL, the `auth` payload with the access token and
 *   the connect time as a string. The address and the issue time stay.
 *
 * They are read while the socket connects (the auth step; admission's client address, whose `connection`
 * listener is registered before the socket server's) and never after; `fetchSockets` across nodes, which
 * would carry the handshake to other nodes, is not used. A listener that does not have the expected shape
 * (another engine.io version) is left in place: the request then stays, as before.
 */
export function releaseHandshake(socket: ChatSocket): void {
  const conn = socket.conn as unknown as { request: unknown; transport?: { socket?: { _socket?: NetSocket } } };
  conn.request = null;
  const tcp = conn.transport?.socket?._socket;
  if (tcp) {
    for (const raw of tcp.rawListeners('close')) {
      const listener = (raw as { listener?: (...args: unknown[]) => void }).listener;
      if (listener && isEngineResponseClose(String(listener))) tcp.removeListener('close', listener);
    }
  }
  const handshake = socket.handshake as { -readonly [K in keyof ChatSocket['handshake']]: ChatSocket['handshake'][K] };
  handshake.headers = NOTHING;
  handshake.query = NOTHING;
  handshake.auth = NOTHING;
  handshake.url = '';
  handshake.time = '';
}
