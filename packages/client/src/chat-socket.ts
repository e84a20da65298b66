import {
  ChatError,
  type Ack,
  type ErrorObject,
  type ClientEventName,
  type ClientToServerEvents,
  type Hello,
  type MemberJoined,
  type MemberLeft,
  type MemberUpdated,
  type Message,
  type Presence,
  type ReactionUpdated,
  type Receipt,
  type Room,
  type SendMessage,
  type ServerToClientEvents,
  type SyncRequest,
  type SyncRoomResult,
  type TypingEvent,
} from '@chat/protocol';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { nextDelay, type BackoffOptions } from './backoff';
import { chatErrorFrom, notAnswered } from './chat-errors';
import { MessageSequencer } from './message-sequencer';
import { Emitter } from './emitter';
import { ReconnectPolicy, type ReconnectCause } from './reconnect-policy';
import type { TokenProvider } from './tokens';

/**
 * - `connecting`: no connection yet since construction (or since `connect()` after going offline);
 * - `connected`;
 * - `reconnecting`: the connection was lost; an attempt is scheduled (`status.retryAt`) or running;
 * - `draining`: the node announced its shutdown; we move to another one at `status.retryAt`, possibly
 *   still connected until then;
 * - `offline`: closed, or gave up after `maxReconnectAttempts` (or the session could not be renewed).
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'draining';

/** What a connection banner needs to tell the truth: the state and, while waiting, when the next attempt is. */
export interface ConnectionStatus {
  state: ConnectionState;
  /** Epoch milliseconds of the next connection attempt, while one is scheduled. */
  retryAt?: number;
  /** The (jittered) delay chosen for that attempt. */
  retryDelayMs?: number;
  /** Consecutive failed attempts since the last successful connection. */
  attempt: number;
  /** Why the last attempt failed, when the server said so (RATE_LIMITED, UNAVAILABLE, UNAUTHORIZED…). */
  lastError?: ErrorObject;
}

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

/** Payload and successful ack of a client → server event, read from the protocol's event map. */
export type PayloadOf<E extends ClientEventName> = Parameters<ClientToServerEvents[E]>[0];
export type AckOf<E extends ClientEventName> = Extract<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0], { ok: true }>;

export interface AckOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Attempts after the first, on timeout, disconnect, RATE_LIMITED or UNAVAILABLE; default 5. */
  retries?: number;
}

export interface ChatSocketOptions {
  /** Server or NGINX origin; the path is `/socket.io`. */
  url: string;
  auth: TokenProvider;
  /** Default `['websocket']`: no long-polling, which needs sticky sessions on every request. */
  transports?: ('websocket' | 'polling' | 'webtransport')[];
  /** Node only: an `http.Agent` (e.g. `new Agent({ localAddress })` to spread source addresses for ip_hash). */
  agent?: unknown;
  forceNew?: boolean;
  /** Default true: `connect()` runs right after construction (in a microtask). */
  autoConnect?: boolean;
  /** Reconnection backoff: the window starts at this (default 1 s) and doubles up to the max (default 30 s). */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  /** Share of the window that is random (see `BackoffOptions.jitter`); default 1, full jitter. */
  randomizationFactor?: number;
  /** Failed attempts in a row before giving up and going `offline`; default 50 (about 25 minutes). */
  maxReconnectAttempts?: number;
  ack?: AckOptions;
  /** Delivered cursors are sent at most this often per room; 0 disables automatic delivery receipts. Default 500. */
  deliveredDebounceMs?: number;
  /** Restored sync cursors (highest contiguous seq per room) from a previous run. */
  cursors?: Record<string, number>;
  /** Extra Socket.IO options for load tools and tests; ours win where both are set. */
  io?: Partial<ManagerOptions & SocketOptions>;
  random?: () => number;
}

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

// A page of sync is at most 50 messages per room; this bounds one catch-up at 10,000 messages per room,
// after which the next reconnect or gap continues from the cursor.
const MAX_SYNC_PAGES = 200;
// Rooms per sync call, so one answer stays far below the 64 KiB-per-packet budget on the way in and
// reasonable on the way out.
const SYNC_ROOMS_PER_CALL = 20;
// Full re-syncs of a gap a correct server never leaves, before its messages are released anyway.
const MAX_GAP_SYNCS = 3;

/**
 * One authenticated Socket.IO connection with the protocol's recovery rules built in: sync after every
 * connect and on every seq gap, de-duplicated ordered delivery, jittered reconnection that honours the
 * server's hints, acks retried with the same payload.
 */
export class ChatSocket extends Emitter<ChatSocketEvents> {
  readonly socket: ClientSocket;
  private state: ConnectionState = 'offline';
  private currentStatus: ConnectionStatus = { state: 'offline', attempt: 0 };
  private closed = false;
  private everConnected = false;
  private refreshing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly policy: ReconnectPolicy;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly sleepers = new Set<() => void>();
  private readonly sequencer = new MessageSequencer();
  private readonly pendingSync = new Set<string>();
  private readonly gapSyncs = new Map<string, number>();
  private syncRunning = false;
  private readonly delivered = new Map<string, number>();
  private deliveredTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: BackoffOptions;
  private readonly opts: ChatSocketOptions;

  constructor(opts: ChatSocketOptions) {
    super();
    this.opts = opts;
    this.backoff = {
      baseMs: opts.reconnectionDelay ?? 1000,
      maxMs: opts.reconnectionDelayMax ?? 30_000,
      jitter: opts.randomizationFactor ?? 1,
      random: opts.random,
    };
    this.policy = new ReconnectPolicy({ backoff: this.backoff, maxAttempts: opts.maxReconnectAttempts ?? 50 });
    for (const [roomId, seq] of Object.entries(opts.cursors ?? {})) this.sequencer.seed(roomId, seq);

    this.socket = io(opts.url, {
      ...opts.io,
      // A function, so every (re)connection presents the current token, not the one we started with.
      auth: (cb) => cb({ token: opts.auth.getAccessToken() }),
      transports: opts.transports ?? ['websocket'],
      // Socket.IO's manager retries only transport failures, with "delay ± factor" jitter and no way to ask
      // when the next attempt is; refusals and server-side disconnects it does not retry at all. One loop of
      // ours covers every cause with one full-jitter sequence, honours the server's hints, and can tell the
      // banner the exact moment of the next attempt.
      reconnection: false,
      forceNew: opts.forceNew ?? opts.io?.forceNew,
      autoConnect: false,
      ...(opts.agent !== undefined ? { agent: opts.agent as string } : {}),
    });
    this.bind();
    // Deferred by a microtask so listeners attached right after construction also see 'connecting'.
    if (opts.autoConnect ?? true) queueMicrotask(() => this.connect());
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** The state plus the scheduled retry; a new object on every change (safe for React's useSyncExternalStore). */
  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** The sync cursor per room, for the app to persist and pass back as `cursors`. */
  cursors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const roomId of this.sequencer.knownRooms()) {
      const seq = this.sequencer.cursor(roomId);
      if (seq !== undefined) out[roomId] = seq;
    }
    return out;
  }

  /**
   * Connects now: the first time, after going offline (a "Retry now" button, the browser's `online` event),
   * or to cut a scheduled wait short. The backoff sequence is not reset until a connection succeeds.
   */
  connect(): void {
    if (this.closed || this.socket.connected) return;
    this.attemptNow();
  }

  /** Stops everything: no reconnection, no timers; pending acks reject with UNAVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearRetry();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Wake sleeping ack retries so they observe `closed` and reject instead of hanging.
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    if (this.deliveredTimer !== undefined) clearTimeout(this.deliveredTimer);
    this.socket.disconnect();
    this.setState('offline');
  }

  /**
   * Emits with an acknowledgement. A timeout or disconnect retries with the same payload once connected
   * again (so a `message:send` keeps its id and is persisted once); RATE_LIMITED waits `retryAfterMs`,
   * UNAVAILABLE backs off. Any other `{ok:false}` throws its ChatError at once.
   */
  async emitWithAck<E extends ClientEventName>(event: E, payload: PayloadOf<E>, opts: AckOptions = {}): Promise<AckOf<E>> {
    const timeoutMs = opts.timeoutMs ?? this.opts.ack?.timeoutMs ?? 10_000;
    const retries = opts.retries ?? this.opts.ack?.retries ?? 5;
    let lastError = notAnswered(`${event}: no answer`);
    for (let attempt = 0; attempt <= retries; attempt++) {
      await this.whenConnected();
      let ack: Ack<object>;
      try {
        // The typed overloads of emitWithAck cannot be resolved for a generic E; AckOf<E> types the result.
        const timed = this.socket.timeout(timeoutMs) as unknown as { emitWithAck(e: E, p: PayloadOf<E>): Promise<Ack<object>> };
        ack = await timed.emitWithAck(event, payload);
      } catch (err) {
        // Timed out or disconnected: the server may or may not have acted; the same payload is safe to resend.
        lastError = notAnswered(`${event}: ${err instanceof Error ? err.message : String(err)}`);
        if (this.closed) throw lastError;
        continue;
      }
      if (ack.ok) return ack as AckOf<E>;
      const error = chatErrorFrom(ack.error, 'INTERNAL', `${event} failed`);
      if (error.code !== 'RATE_LIMITED' && error.code !== 'UNAVAILABLE') throw error;
      lastError = error;
      if (attempt < retries) await this.sleep(nextDelay(attempt, this.backoff, error.retryAfterMs));
    }
    throw lastError;
  }

  /** Sends a new message; the id is created once here and kept across retries. */
  send(roomId: string, content: string, replyTo?: string): { id: string; ack: Promise<Message> } {
    const id = crypto.randomUUID();
    const payload: SendMessage = { id, roomId, content };
    if (replyTo !== undefined) payload.replyTo = replyTo;
    return { id, ack: this.sendMessage(payload) };
  }

  /** Sends with a caller-chosen id (the outbox, which persists ids across reloads). */
  async sendMessage(payload: SendMessage, opts?: AckOptions): Promise<Message> {
    const { message } = await this.emitWithAck('message:send', payload, opts);
    // Our own message counts as received: the server may not echo it to this socket.
    this.deliverLive(message);
    return message;
  }

  async edit(id: string, content: string): Promise<Message> {
    return (await this.emitWithAck('message:edit', { id, content })).message;
  }
  async delete(id: string): Promise<void> {
    await this.emitWithAck('message:delete', { id });
  }
  async react(messageId: string, emoji: string): Promise<void> {
    await this.emitWithAck('reaction:add', { messageId, emoji });
  }
  async unreact(messageId: string, emoji: string): Promise<void> {
    await this.emitWithAck('reaction:remove', { messageId, emoji });
  }
  async markDelivered(roomId: string, seq: number): Promise<void> {
    await this.emitWithAck('message:delivered', { roomId, seq });
  }
  async markRead(roomId: string, seq: number): Promise<void> {
    await this.emitWithAck('message:read', { roomId, seq });
  }
  /** Typing is ephemeral: one attempt, no retries. */
  async typing(roomId: string, typing: boolean): Promise<void> {
    await this.emitWithAck('typing', { roomId, typing }, { retries: 0 });
  }
  async presenceGet(userIds: string[]): Promise<Presence[]> {
    return (await this.emitWithAck('presence:get', { userIds })).presence;
  }
  /** One raw sync call; most apps rely on the automatic syncs and the `message` event instead. */
  async sync(request: SyncRequest): Promise<SyncRoomResult[]> {
    return (await this.emitWithAck('sync', request)).rooms;
  }

  private bind(): void {
    const s = this.socket;
    s.on('connect', () => {
      this.everConnected = true;
      this.policy.reset();
      this.clearRetry();
      this.setState('connected', {});
    });
    s.on('disconnect', (reason) => {
      // Our own disconnects (close, giving up, leaving a draining node) are not losses.
      if (this.closed || reason === 'io client disconnect') return;
      // Leaving a draining node early (it closed us first) keeps the moment it gave us: no lock-step herd.
      if (this.state === 'draining' && this.retryTimer !== undefined) return;
      // 'io server disconnect' (kick, logout, shutdown) is the one Socket.IO would never retry.
      this.retryLater(reason === 'io server disconnect' ? { kind: 'server-disconnect' } : { kind: 'lost' });
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      if (this.closed) return;
      // A refusal by a server middleware destroys the socket (`active` false); a transport failure does not.
      if (s.active) {
        this.retryLater({ kind: 'lost' });
        return;
      }
      const error = chatErrorFrom(err.data ?? { code: err.message, message: err.message }, 'UNAVAILABLE', err.message);
      if (error.code === 'UNAUTHORIZED') this.refreshThenRetry(error);
      else this.retryLater({ kind: 'refused', error });
    });
    s.on('server:draining', ({ reconnectInMs }) => {
      if (this.closed) return;
      const plan = this.policy.next({ kind: 'draining', reconnectInMs });
      if (!plan) return;
      // Stay on the node until our moment (it may close us first), then move: the node already spread
      // these moments over its clients, so the herd arrives at the other nodes gradually.
      this.schedule(plan.delayMs, 'draining', undefined, () => {
        if (this.socket.connected) this.socket.disconnect();
        this.attemptNow();
      });
    });

    s.on('hello', (hello) => {
      this.emit('hello', hello);
      this.onHello(hello);
    });
    s.on('message:new', (m) => this.deliverLive(m));
    s.on('message:updated', (m) => this.emit('messageUpdated', m));
    s.on('reaction:updated', (r) => this.emit('reaction', r));
    s.on('receipt', (r) => this.emit('receipt', r));
    s.on('typing', (t) => this.emit('typing', t));
    s.on('presence', (p) => this.emit('presence', p));
    s.on('room:joined', ({ room }) => {
      this.emit('roomJoined', room);
      this.requestSync([room.id]);
    });
    s.on('room:left', ({ roomId }) => {
      this.sequencer.forget(roomId);
      this.pendingSync.delete(roomId);
      this.emit('roomLeft', roomId);
    });
    s.on('member:joined', (e) => this.emit('memberJoined', e));
    s.on('member:left', (e) => this.emit('memberLeft', e));
    s.on('member:updated', (e) => this.emit('memberUpdated', e));
  }

  private onHello(hello: Hello): void {
    const inHello = new Set(hello.rooms.map((r) => r.roomId));
    // Rooms we knew but left while offline.
    for (const roomId of this.sequencer.knownRooms()) if (!inHello.has(roomId)) this.sequencer.forget(roomId);
    const stale: string[] = [];
    for (const { roomId, lastSeq } of hello.rooms) {
      const cursor = this.sequencer.cursor(roomId);
      // Up to date rooms cost nothing: after a mass reconnect, only rooms with news are synced.
      if (cursor === undefined || cursor < lastSeq || this.sequencer.hasGap(roomId)) stale.push(roomId);
    }
    this.requestSync(stale, true);
  }

  private deliverLive(m: Message): void {
    const released = this.sequencer.accept(m);
    this.release(m.roomId, released);
    // A seq above cursor + 1 (or a room without a base yet) means messages are missing: fetch them.
    if (this.sequencer.hasGap(m.roomId)) this.requestSync([m.roomId]);
  }

  private release(roomId: string, messages: Message[]): void {
    if (messages.length === 0) return;
    for (const m of messages) this.emit('message', m);
    this.scheduleDelivered(roomId, messages[messages.length - 1]!.seq);
  }

  private requestSync(roomIds: string[], alwaysReport = false): void {
    for (const id of roomIds) this.pendingSync.add(id);
    if (roomIds.length === 0 && alwaysReport) this.emit('synced', []);
    if (!this.syncRunning && this.pendingSync.size > 0) void this.runSync();
  }

  /** One sync loop per client: a reconnect storm then costs one paged sync per client, not one per gap. */
  private async runSync(): Promise<void> {
    this.syncRunning = true;
    try {
      while (this.pendingSync.size > 0 && !this.closed) {
        const batch = [...this.pendingSync].slice(0, SYNC_ROOMS_PER_CALL);
        for (const id of batch) this.pendingSync.delete(id);
        await this.syncRooms(batch);
      }
    } catch (err) {
      this.emit('error', err instanceof ChatError ? err : new ChatError('INTERNAL', String(err)));
    } finally {
      this.syncRunning = false;
    }
  }

  private async syncRooms(roomIds: string[]): Promise<void> {
    let open = roomIds;
    for (let page = 0; page < MAX_SYNC_PAGES && open.length > 0; page++) {
      const rooms = open.map((roomId) => {
        const afterSeq = this.sequencer.cursor(roomId);
        // Without afterSeq the server starts at the member's stored delivered cursor.
        return afterSeq === undefined ? { roomId } : { roomId, afterSeq };
      });
      const results = await this.sync({ rooms });
      const next: string[] = [];
      for (const r of results) {
        this.release(r.roomId, this.sequencer.applySync(r.roomId, r.messages, r.lastSeq));
        if (r.hasMore && r.messages.length > 0) next.push(r.roomId);
      }
      open = next;
    }
    const done: string[] = [];
    for (const roomId of roomIds) {
      if (!this.sequencer.hasGap(roomId)) {
        this.gapSyncs.delete(roomId);
        done.push(roomId);
        continue;
      }
      const tries = (this.gapSyncs.get(roomId) ?? 0) + 1;
      if (tries < MAX_GAP_SYNCS) {
        this.gapSyncs.set(roomId, tries);
        this.pendingSync.add(roomId);
      } else {
        this.gapSyncs.delete(roomId);
        this.release(roomId, this.sequencer.forceRelease(roomId));
        done.push(roomId);
      }
    }
    this.emit('synced', done);
  }

  /** Coalesces delivery receipts: one `message:delivered` per room per debounce window, with the highest seq. */
  private scheduleDelivered(roomId: string, seq: number): void {
    const debounce = this.opts.deliveredDebounceMs ?? 500;
    if (debounce <= 0 || this.closed) return;
    this.delivered.set(roomId, Math.max(seq, this.delivered.get(roomId) ?? 0));
    if (this.deliveredTimer !== undefined) return;
    this.deliveredTimer = setTimeout(() => {
      this.deliveredTimer = undefined;
      const batch = [...this.delivered];
      this.delivered.clear();
      for (const [room, s] of batch) {
        this.markDelivered(room, s).catch(() => undefined /* cursors are cumulative: the next one covers it */);
      }
    }, debounce);
  }

  /** Plans the next attempt for `cause`, or gives up when the policy says so. */
  private retryLater(cause: ReconnectCause): void {
    if (this.closed) return;
    const plan = this.policy.next(cause);
    if (!plan) {
      this.giveUp(cause.kind === 'refused' ? cause.error.toJSON() : this.currentStatus.lastError);
      return;
    }
    const lastError = cause.kind === 'refused' ? cause.error.toJSON() : undefined;
    this.schedule(plan.delayMs, this.everConnected ? 'reconnecting' : 'connecting', lastError, () => this.attemptNow());
  }

  /**
   * The handshake was refused as UNAUTHORIZED (expired access token, typically after a long sleep): renew
   * the token first, then come back with the usual backoff. A refused refresh means the session is gone.
   */
  private refreshThenRetry(error: ChatError): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.setState(this.everConnected ? 'reconnecting' : 'connecting', { lastError: error.toJSON() });
    const stale = this.opts.auth.getAccessToken();
    this.opts.auth.refresh(stale).then(
      () => {
        this.refreshing = false;
        this.retryLater({ kind: 'refused', error });
      },
      (refreshErr: unknown) => {
        this.refreshing = false;
        if (this.closed) return;
        const final = !(refreshErr instanceof ChatError) || refreshErr.code === 'UNAUTHORIZED' || refreshErr.code === 'FORBIDDEN';
        if (!final) {
          // The auth server is unreachable, not the session invalid: keep trying.
          this.retryLater({ kind: 'lost' });
          return;
        }
        this.emit('error', refreshErr instanceof ChatError ? refreshErr : new ChatError('UNAUTHORIZED', 'session could not be renewed'));
        this.giveUp(error.toJSON());
      },
    );
  }

  private schedule(delayMs: number, state: ConnectionState, lastError: ErrorObject | undefined, run: () => void): void {
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) run();
    }, delayMs);
    this.setState(state, { retryAt: Date.now() + delayMs, retryDelayMs: delayMs, lastError: lastError ?? this.currentStatus.lastError });
  }

  /** Starts a connection attempt now (a scheduled one, or one asked for by the app). */
  private attemptNow(): void {
    this.clearRetry();
    const waiting = this.state === 'offline' || this.state === 'draining' ? (this.everConnected ? 'reconnecting' : 'connecting') : this.state;
    this.setState(waiting === 'connected' ? 'reconnecting' : waiting, { lastError: this.currentStatus.lastError });
    this.socket.connect();
  }

  private giveUp(lastError?: ErrorObject): void {
    this.clearRetry();
    this.socket.disconnect();
    this.setState('offline', lastError ? { lastError } : {});
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private whenConnected(): Promise<void> {
    if (this.closed) return Promise.reject(notAnswered('client closed'));
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('connection', (state) => {
        if (state === 'connected') {
          off();
          resolve();
        } else if (this.closed || state === 'offline') {
          off();
          reject(notAnswered(this.closed ? 'client closed' : 'offline'));
        }
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleepers.add(resolve);
      this.later(ms, () => {
        this.sleepers.delete(resolve);
        resolve();
      });
    });
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Sets the state and the retry details (`extra` replaces them; omitted fields are cleared). */
  private setState(state: ConnectionState, extra: Omit<ConnectionStatus, 'state' | 'attempt'> = {}): void {
    const changed = this.state !== state;
    this.state = state;
    const next: ConnectionStatus = { state, attempt: this.policy.attempts, ...extra };
    const prev = this.currentStatus;
    const same =
      prev.state === next.state &&
      prev.attempt === next.attempt &&
      prev.retryAt === next.retryAt &&
      prev.retryDelayMs === next.retryDelayMs &&
      prev.lastError?.code === next.lastError?.code;
    if (!same) this.currentStatus = next;
    if (changed) this.emit('connection', state);
    if (!same) this.emit('status', this.currentStatus);
  }
}
