import type { FastifyInstance } from 'fastify';

export interface DrainOptions {
  /** Sockets are closed spread over this window. */
  windowMs: number;
  /** How many steps the window is cut into. Default: one per 100 ms, at least 1. */
  steps?: number;
}

/**
 * Graceful drain (DESIGN.md, "Thundering herd"): take this node out of service without sending its
 * clients back all at once.
 *
 * 1. `/readyz` turns 503 and new handshakes are refused with UNAVAILABLE (see the ops feature);
 * 2. the listener closes, so the load balancer's next connection attempt fails over to another node
 *    (established WebSockets are not affected);
 * 3. every socket is told `server:draining` with its own jittered `reconnectInMs` within the window;
 * 4. sockets are closed in small groups over the window by closing their transport, not with a Socket.IO
 *    DISCONNECT packet: the client sees "transport close" and its own reconnection takes it to another
 *    node, where "io server disconnect" would leave a stock client disconnected for good;
 * 5. the caller then closes the app, which finishes in-flight group commits and receipts.
 */
export async function drain(app: FastifyInstance, options: DrainOptions): Promise<void> {
  app.lifecycle.draining = true;
  await new Promise<void>((resolve) => {
    // Resolves once no new connection can arrive; existing ones stay until closed below.
    app.server.close(() => resolve());
    // server.close() calls back only after every connection ended; do not wait for that here.
    setImmediate(resolve);
  });

  const sockets = [...app.io.of('/').sockets.values()];
  const windowMs = Math.max(0, options.windowMs);
  // Each socket gets a random slot in the window; it is told when, and closed then.
  const slots = sockets.map((socket) => ({ socket, at: Math.floor(Math.random() * windowMs) })).sort((a, b) => a.at - b.at);
  for (const { socket, at } of slots) socket.emit('server:draining', { reconnectInMs: at });

  const steps = Math.max(1, options.steps ?? Math.ceil(windowMs / 100));
  const stepMs = windowMs / steps;
  const started = Date.now();
  let i = 0;
  for (let step = 1; step <= steps && i < slots.length; step++) {
    const until = step * stepMs;
    const wait = started + until - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, stepMs)));
    for (; i < slots.length && slots[i]!.at <= until; i++) {
      const { socket } = slots[i]!;
      if (socket.connected) socket.conn.close();
    }
  }
  for (; i < slots.length; i++) if (slots[i]!.socket.connected) slots[i]!.socket.conn.close();
}
