import {
  CLIENT_EVENTS,
  CLIENT_EVENT_TABLE,
  ChatError,
  LIMITS,
  type Ack,
  type ClientEventAck,
  type ClientEventName,
  type ClientEventPayload,
  type ErrorObject,
} from '@chat/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { rejectUnstorableText, toErrorObject, validationError } from '../errors';
import type { ChatSocket } from './types';

/** Events a client may send without an acknowledgement callback (the protocol table's `ackOptional`). */
const ackOptional = new Set(CLIENT_EVENTS.filter((e) => CLIENT_EVENT_TABLE[e].ackOptional));
const unanswered = (): void => {};

/** What a handler answers: the fields of its event's acknowledgement (nothing for events that answer only `ok`). */
type AckFieldsOf<E extends ClientEventName> = object extends ClientEventAck<E> ? ClientEventAck<E> | void : ClientEventAck<E>;
export type EventHandler<E extends ClientEventName> = (socket: ChatSocket, payload: ClientEventPayload<E>) => Promise<AckFieldsOf<E>>;
export type ConnectStep = (socket: ChatSocket) => Promise<void>;
export type ConnectedHook = (socket: ChatSocket) => void | Promise<void>;
/** Runs on `disconnecting`, with the socket rooms it was in (Socket.IO empties them before `disconnect`). */
export type DisconnectHook = (socket: ChatSocket, rooms: ReadonlySet<string>, reason: string) => void | Promise<void>;
/**
 * The budget check of a valid event before its handler runs: an error refuses it (RATE_LIMITED). Synchronous
 * `undefined` for events without a budget of their own here (a send), so they pay no extra await.
 */
export type EventBudget = (event: ClientEventName, socket: ChatSocket) => Promise<ChatError | undefined> | undefined;

/** How long a socket at its in-flight cap is asked to wait: about one round of its pending events. */
const IN_FLIGHT_RETRY_MS = 250;

/**
 * The registry through which features add socket behaviour without a god `socket.ts`: each feature plugin
 * registers its event handlers and lifecycle hooks here, and the socket server binds them to every socket.
 *
 * Every handler is wrapped once: the payload is validated against its protocol schema (VALIDATION, nothing
 * changed, on mismatch), the acknowledgement is sent exactly once, and unexpected errors are logged with
 * context and answered INTERNAL.
 */
export class SocketEvents {
  private readonly handlers = new Map<ClientEventName, EventHandler<ClientEventName>>();
  private readonly connectSteps: ConnectStep[] = [];
  private readonly connectedHooks: ConnectedHook[] = [];
  private readonly disconnectHooks: DisconnectHook[] = [];
  /** Events of each socket being handled now (LIMITS.eventsInFlightPerSocket). */
  private readonly inFlight = new WeakMap<ChatSocket, number>();

  constructor(
    private readonly log: FastifyBaseLogger,
    /** After every acknowledged event; `validateSeconds` is the payload check (schema and storable text). */
    private readonly onHandled: (event: ClientEventName, outcome: string, socket: ChatSocket, validateSeconds: number) => void = () => {},
    private readonly budget: EventBudget = () => undefined,
    private readonly maxInFlight: number = LIMITS.eventsInFlightPerSocket,
  ) {}

  on<E extends ClientEventName>(event: E, handler: EventHandler<E>): void {
    if (this.handlers.has(event)) throw new Error(`socket event ${event} registered twice`);
    this.handlers.set(event, handler as unknown as EventHandler<ClientEventName>);
  }

  /** Runs during the handshake, in registration order; a failure refuses the connection. */
  onConnecting(step: ConnectStep): void {
    this.connectSteps.push(step);
  }

  onConnected(hook: ConnectedHook): void {
    this.connectedHooks.push(hook);
  }

  onDisconnect(hook: DisconnectHook): void {
    this.disconnectHooks.push(hook);
  }

  async runConnectSteps(socket: ChatSocket): Promise<void> {
    for (const step of this.connectSteps) await step(socket);
  }

  attach(socket: ChatSocket): void {
    // One listener per socket for every event (not one closure per event and socket): handlers are looked
    // up in the shared table.
    socket.onAny((event: string, ...args: unknown[]) => {
      const handler = this.handlers.get(event as ClientEventName);
      if (!handler) return;
      // Socket.IO passes the acknowledgement last: `emit(event, ack)` (no payload) and surplus arguments
      // must still be answered, with VALIDATION for the missing payload. Without one there is nobody to
      // answer: the event is ignored, unless the protocol lets it come without (receipts, typing).
      const ack = args.at(-1);
      if (typeof ack === 'function') {
        void this.dispatch(socket, event as ClientEventName, handler, args.length > 1 ? args[0] : undefined, ack as (r: Ack) => void);
      } else if (ackOptional.has(event as ClientEventName)) {
        void this.dispatch(socket, event as ClientEventName, handler, args[0], unanswered);
      }
    });
    socket.on('disconnecting', (reason) => {
      const rooms = new Set(socket.rooms);
      for (const hook of this.disconnectHooks) {
        Promise.resolve()
          .then(() => hook(socket, rooms, reason))
          .catch((err: unknown) => this.log.error({ err, socketId: socket.id }, 'disconnect hook failed'));
      }
    });
    for (const hook of this.connectedHooks) {
      Promise.resolve()
        .then(() => hook(socket))
        .catch((err: unknown) => this.log.error({ err, socketId: socket.id }, 'connected hook failed'));
    }
  }

  private async dispatch(
    socket: ChatSocket,
    event: ClientEventName,
    handler: EventHandler<ClientEventName>,
    payload: unknown,
    ack: (r: Ack) => void,
  ): Promise<void> {
    let response: Ack;
    const started = process.hrtime.bigint();
    let validateSeconds = 0;
    const parsed = CLIENT_EVENT_TABLE[event].payload.safeParse(payload);
    if (!parsed.success) {
      response = { ok: false, error: validationError(parsed.error).toJSON() };
    } else {
      // Invalid events are refused before anything is counted; valid ones take a place in flight and then
      // their budget, so a flood is answered RATE_LIMITED without running a handler.
      const inFlight = this.inFlight.get(socket) ?? 0;
      this.inFlight.set(socket, inFlight + 1);
      try {
        rejectUnstorableText(parsed.data);
        validateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (inFlight >= this.maxInFlight) throw new ChatError('RATE_LIMITED', 'too many events in flight on this connection', { retryAfterMs: IN_FLIGHT_RETRY_MS });
        const check = this.budget(event, socket);
        const refused = check && (await check);
        if (refused) throw refused;
        const result = await handler(socket, parsed.data as ClientEventPayload<ClientEventName>);
        response = { ok: true, ...(result ?? {}) };
      } catch (err) {
        const error: ErrorObject = toErrorObject(err, this.log, { event, socketId: socket.id, userId: socket.data.userId });
        response = { ok: false, error };
      } finally {
        this.inFlight.set(socket, (this.inFlight.get(socket) ?? 1) - 1);
      }
    }
    this.onHandled(event, response.ok ? 'ok' : response.error.code, socket, validateSeconds);
    ack(response);
  }
}

export function connectError(err: ChatError): Error & { data: unknown } {
  const e = new Error(err.code) as Error & { data: unknown };
  e.data = err.toJSON();
  return e;
}
