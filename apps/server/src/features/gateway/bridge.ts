import { CLIENT_EVENT_TABLE, LIMITS, type ClientEventName, type ErrorObject } from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';
import type { WebSocket } from '@fastify/websocket';
import { IN_PROCESS_BRIDGE_KEY, type BridgeHandshake } from '../../socket/handshake-address';

/** How long a frame with an id waits for its acknowledgement before it is answered UNAVAILABLE. */
const ACK_TIMEOUT_MS = 30_000;

/**
 * WebSocket close codes of the gateway (docs/PROTOCOL.md, "Raw WebSocket gateway"): a refused handshake
 * closes with 4000 + the error's HTTP status, so a bot can tell "fix your token" (4401) from "come back
 * later" (4429, 4503) without parsing the reason.
 */
const CLOSE = {
  disconnectedByServer: 4000,
  tooSlow: 4008,
  nodeGoingAway: 1012,
  refused: (status: number) => 4000 + status,
} as const;

const STATUS: Record<string, number> = { UNAUTHORIZED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, UNAVAILABLE: 503, VALIDATION: 400 };

export interface BridgeOptions {
  /** The node's own Socket.IO URL (loopback). */
  selfUrl: string;
  token: string | undefined;
  clientAddress: string;
  /** Outbound bytes a gateway client may leave unread before it is cut (as slow Socket.IO readers are). */
  maxBufferedBytes: number;
  onClosed: () => void;
}

type Frame = { id?: unknown; event?: unknown; data?: unknown };

/**
 * One gateway client: JSON frames on a raw WebSocket, carried through a Socket.IO connection of their own to
 * this node, so the client is a Socket.IO client like any other to every rule of the node: the same
 * handshake (token, admission by the client's own address, socket caps), `hello`, event budgets,
 * validation, acknowledgements, room channels, cross-node delivery and sync. Frames:
 *
 *   client → node   {"id": 7, "event": "message:send", "data": {...}}   (id: any string or number)
 *   node → client   {"id": 7, "ack": {"ok": true, ...}}                 (the event's acknowledgement)
 *                   {"event": "message:new", "data": {...}}             (every server event)
 *                   {"id": 7, "error": {"code": "VALIDATION", ...}}     (a frame the gateway cannot carry)
 */
export class GatewayBridge {
  private readonly socket: Socket;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: BridgeOptions,
  ) {
    const auth: BridgeHandshake & { token?: string } = {
      bridgeKey: IN_PROCESS_BRIDGE_KEY,
      clientAddress: opts.clientAddress,
      ...(opts.token === undefined ? {} : { token: opts.token }),
    };
    this.socket = io(opts.selfUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
    this.socket.onAny((event: string, data: unknown) => this.send({ event, data }));
    this.socket.on('connect_error', (err: Error & { data?: ErrorObject }) => {
      const error = err.data ?? { code: 'UNAVAILABLE', message: 'the node could not take the connection' };
      this.send({ event: 'error', data: error });
      this.close(CLOSE.refused(STATUS[error.code] ?? 500), error.code);
    });
    this.socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') this.close(CLOSE.disconnectedByServer, 'disconnected by the server');
      else if (reason !== 'io client disconnect') this.close(CLOSE.nodeGoingAway, 'connection to the node lost: reconnect');
    });
    ws.on('message', (raw, isBinary) => this.onFrame(isBinary ? undefined : raw.toString()));
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
  }

  private onFrame(text: string | undefined): void {
    let frame: Frame;
    try {
      if (text === undefined || text.length > LIMITS.socketPayloadMaxBytes) throw new Error('frame');
      frame = JSON.parse(text) as Frame;
      if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new Error('frame');
    } catch {
      this.refuse(undefined, 'frames are JSON text objects {"id", "event", "data"} within the payload limit');
      return;
    }
    const { id, event, data } = frame;
    if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
      this.refuse(undefined, '"id" is a string or a number');
      return;
    }
    if (typeof event !== 'string' || !Object.hasOwn(CLIENT_EVENT_TABLE, event)) {
      this.refuse(id, `unknown event: ${String(event)}`);
      return;
    }
    const spec = CLIENT_EVENT_TABLE[event as ClientEventName];
    if (id === undefined) {
      if (!spec.ackOptional) {
        this.refuse(undefined, `${event} is acknowledged: give the frame an "id"`);
        return;
      }
      this.socket.emit(event, data);
      return;
    }
    this.socket.timeout(ACK_TIMEOUT_MS).emit(event, data, (err: Error | null, ack: unknown) => {
      if (err) this.send({ id, error: { code: 'UNAVAILABLE', message: `no acknowledgement within ${ACK_TIMEOUT_MS} ms` } });
      else this.send({ id, ack });
    });
  }

  private refuse(id: unknown, message: string): void {
    this.send({ ...(id === undefined ? {} : { id }), error: { code: 'VALIDATION', message } });
  }

  private send(frame: object): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    // A client that does not read is cut, as a slow Socket.IO reader is (socket/slow-readers.ts).
    if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.close(CLOSE.tooSlow, 'the client does not read its frames');
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    if (code !== undefined && this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason);
    else if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    this.opts.onClosed();
  }
}
