import type {
  AckOptionalEvent,
  ChatError,
  ClientEventName,
  Hello,
  MemberJoined,
  MemberLeft,
  MemberUpdated,
  Message,
  Presence,
  ReactionUpdated,
  Receipt,
  Room,
  TypingEvent,
} from '@chat/protocol';
import { AckSender, type AckOf, type AckOptions, type PayloadOf } from './ack-sender';
import { ChatVerbs } from './chat-verbs';
import { Connection, type ClientSocket, type ConnectionOptions, type ConnectionState, type ConnectionStatus } from './connection';
import { ReceiptBatcher } from './receipt-batcher';
import { RoomSync } from './room-sync';

export interface ChatSocketEvents {
  /** Each message once, in ascending seq per room, live or from sync. */
  message: (message: Message) => void;
  messageUpdated: (message: Message) => void;
  reaction: (update: ReactionUpdated) => void;
  receipt: (receipt: Receipt) => void;
  typing: (event: TypingEvent) => void;
  presence: (presence: Presence) => void;
  roomJoined: (room: Room) => void;
  roomLeft: (roomId: string) => void;
  /** A room's name or topic changed. */
  roomUpdated: (room: Room) => void;
  memberJoined: (event: MemberJoined) => void;
  memberLeft: (event: MemberLeft) => void;
  memberUpdated: (event: MemberUpdated) => void;
  hello: (hello: Hello) => void;
  connection: (state: ConnectionState) => void;
  /** Every change of `status` (state, scheduled retry, last error). */
  status: (status: ConnectionStatus) => void;
  /** Rooms whose sync (after a connect or a gap) has completed. */
  synced: (roomIds: string[]) => void;
  /** Failures with nobody to return them to (a background sync, a session that could not be renewed). */
  error: (error: ChatError) => void;
}

export interface ChatSocketOptions extends ConnectionOptions {
  ack?: AckOptions;
  /** Delivered cursors are sent at most this often per room; 0 disables automatic delivery receipts. Default 1000. */
  deliveredDebounceMs?: number;
  /** Restored sync cursors (highest contiguous seq per room) from a previous run. */
  cursors?: Record<string, number>;
}

/**
 * One authenticated Socket.IO connection with the protocol's recovery rules built in. A façade over one
 * part per concern: `Connection` (jittered reconnection that honours the server's hints, token renewal,
 * status), `AckSender` (acks retried with the same payload), `RoomSync` (sync after every connect and on
 * every seq gap, de-duplicated ordered delivery), `ReceiptBatcher` (delivery receipts) and the typed
 * verbs of `ChatVerbs`.
 */
export class ChatSocket extends ChatVerbs<ChatSocketEvents> {
  readonly socket: ClientSocket;
  private readonly connection: Connection;
  private readonly acks: AckSender;
  private readonly roomSync: RoomSync;
  private readonly receipts: ReceiptBatcher;

  constructor(opts: ChatSocketOptions) {
    super();
    this.connection = new Connection(opts);
    this.socket = this.connection.socket;
    this.acks = new AckSender({ connection: this.connection, backoff: this.connection.backoff, defaults: opts.ack });
    // Through this object's own methods, so that a subclass observes the receipts and syncs the SDK makes.
    this.receipts = new ReceiptBatcher({ debounceMs: opts.deliveredDebounceMs ?? 1000, send: (roomId, seq) => this.markDelivered(roomId, seq) });
    this.roomSync = new RoomSync({
      sync: (request) => this.sync(request),
      release: (roomId, messages) => {
        for (const m of messages) this.emit('message', m);
        this.receipts.add(roomId, messages[messages.length - 1]!.seq);
      },
      synced: (roomIds) => this.emit('synced', roomIds),
      error: (error) => this.emit('error', error),
      cursors: opts.cursors,
    });
    this.connection.on('connection', (state) => this.emit('connection', state));
    this.connection.on('status', (status) => this.emit('status', status));
    this.connection.on('error', (error) => this.emit('error', error));
    this.bind();
  }

  get connectionState(): ConnectionState {
    return this.connection.connectionState;
  }

  /** The state plus the scheduled retry; a new object on every change (safe for React's useSyncExternalStore). */
  get status(): ConnectionStatus {
    return this.connection.status;
  }

  /** The sync cursor per room, for the app to persist and pass back as `cursors`. */
  cursors(): Record<string, number> {
    return this.roomSync.cursors();
  }

  /**
   * Connects now: the first time, after going offline (a "Retry now" button, the browser's `online` event),
   * or to cut a scheduled wait short. The backoff sequence is not reset until a connection succeeds.
   */
  connect(): void {
    this.connection.connect();
  }

  /** Stops everything: no reconnection, no timers; pending acks reject with UNAVAILABLE. */
  close(): void {
    if (this.connection.closed) return;
    this.acks.close();
    this.roomSync.close();
    this.receipts.close();
    this.connection.close();
  }

  /**
   * Emits with an acknowledgement. A timeout or disconnect retries with the same payload once connected
   * again (so a `message:send` keeps its id and is persisted once); RATE_LIMITED waits `retryAfterMs`,
   * UNAVAILABLE backs off. Any other `{ok:false}` throws its ChatError at once.
   */
  emitWithAck<E extends ClientEventName>(event: E, payload: PayloadOf<E>, opts?: AckOptions): Promise<AckOf<E>> {
    return this.acks.send(event, payload, opts);
  }

  notify<E extends AckOptionalEvent>(event: E, payload: PayloadOf<E>): void {
    // The typed overloads of emit cannot be resolved for a generic E.
    (this.socket.emit as (event: E, payload: PayloadOf<E>) => void)(event, payload);
  }

  protected acceptOwn(message: Message): void {
    this.roomSync.accept(message);
  }

  /** Server events: messages through room sync, the rest passed on under the SDK's event names. */
  private bind(): void {
    const s = this.socket;
    s.on('hello', (hello) => {
      this.emit('hello', hello);
      this.roomSync.resume(hello.rooms);
    });
    s.on('message:new', (m) => this.roomSync.accept(m));
    s.on('message:updated', (m) => this.emit('messageUpdated', m));
    s.on('reaction:updated', (r) => this.emit('reaction', r));
    // One `receipts` event per room and server window; apps get one `receipt` per member.
    s.on('receipts', ({ roomId, receipts }) => {
      for (const r of receipts) this.emit('receipt', { roomId, ...r });
    });
    s.on('typing', (t) => this.emit('typing', t));
    s.on('presence', (p) => this.emit('presence', p));
    s.on('room:joined', ({ room }) => {
      this.emit('roomJoined', room);
      this.roomSync.joined(room.id);
    });
    s.on('room:left', ({ roomId }) => {
      this.roomSync.left(roomId);
      this.emit('roomLeft', roomId);
    });
    s.on('room:updated', ({ room }) => this.emit('roomUpdated', room));
    s.on('member:joined', (e) => this.emit('memberJoined', e));
    s.on('member:left', (e) => this.emit('memberLeft', e));
    s.on('member:updated', (e) => this.emit('memberUpdated', e));
  }
}
