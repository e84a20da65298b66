import { ChatError, type ClientToServerEvents, type ErrorObject, type ServerToClientEvents } from '@chat/protocol';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { BackoffOptions } from './backoff';
import { chatErrorFrom, notAnswered } from './chat-errors';
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

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectionOptions {
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
  /**
   * Reconnection backoff: the window starts at this (default 1 s) and doubles up to the max (default 5 s:
   * a node restarted after a crash is back within seconds, and admission spreads a herd by its hints).
   */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  /** Share of the window that is random (see `BackoffOptions.jitter`); default 1, full jitter. */
  randomizationFactor?: number;
  /** Failed attempts in a row before giving up and going `offline`; default 50 (about 25 minutes). */
  maxReconnectAttempts?: number;
  /** Extra Socket.IO options for load tools and tests; ours win where both are set. */
  io?: Partial<ManagerOptions & SocketOptions>;
  random?: () => number;
}

interface ConnectionEvents {
  connection: (state: ConnectionState) => void;
  /** Every change of `status` (state, scheduled retry, last error). */
  status: (status: ConnectionStatus) => void;
  /** The session could not be renewed. */
  error: (error: ChatError) => void;
}

/**
 * One authenticated Socket.IO connection and the loop that keeps it: jittered reconnection for every
 * cause (`ReconnectPolicy`), the server's hints honoured, the token renewed when a handshake is refused as
 * UNAUTHORIZED, and a `status` that says when the next attempt is.
 */
export class Connection extends Emitter<ConnectionEvents> {
  readonly socket: ClientSocket;
  /** The reconnection backoff; ack retries space themselves out with the same one. */
  readonly backoff: BackoffOptions;
  private state: ConnectionState = 'offline';
  private currentStatus: ConnectionStatus = { state: 'offline', attempt: 0 };
  private isClosed = false;
  private everConnected = false;
  private refreshing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly policy: ReconnectPolicy;
  private readonly auth: TokenProvider;

  constructor(opts: ConnectionOptions) {
    super();
    this.auth = opts.auth;
    this.backoff = {
      baseMs: opts.reconnectionDelay ?? 1000,
      maxMs: opts.reconnectionDelayMax ?? 5_000,
      jitter: opts.randomizationFactor ?? 1,
      random: opts.random,
    };
    this.policy = new ReconnectPolicy({ backoff: this.backoff, maxAttempts: opts.maxReconnectAttempts ?? 50 });
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

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Connects now: the first time, after going offline (a "Retry now" button, the browser's `online` event),
   * or to cut a scheduled wait short. The backoff sequence is not reset until a connection succeeds.
   */
  connect(): void {
    if (this.isClosed || this.socket.connected) return;
    this.attemptNow();
  }

  /** Stops for good: no reconnection, no timers. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.clearRetry();
    this.socket.disconnect();
    this.setState('offline');
  }

  /** Resolves once connected; rejects (not answered) when closed or gone offline first. */
  whenConnected(): Promise<void> {
    if (this.isClosed) return Promise.reject(notAnswered('client closed'));
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('connection', (state) => {
        if (state === 'connected') {
          off();
          resolve();
        } else if (this.isClosed || state === 'offline') {
          off();
          reject(notAnswered(this.isClosed ? 'client closed' : 'offline'));
        }
      });
    });
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
      if (this.isClosed || reason === 'io client disconnect') return;
      // Leaving a draining node early (it closed us first) keeps the moment it gave us: no lock-step herd.
      if (this.state === 'draining' && this.retryTimer !== undefined) return;
      // 'io server disconnect' (kick, logout, shutdown) is the one Socket.IO would never retry.
      this.retryLater(reason === 'io server disconnect' ? { kind: 'server-disconnect' } : { kind: 'lost' });
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      if (this.isClosed) return;
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
      if (this.isClosed) return;
      const plan = this.policy.next({ kind: 'draining', reconnectInMs });
      if (!plan) return;
      // Stay on the node until our moment (it may close us first), then move: the node already spread
      // these moments over its clients, so the herd arrives at the other nodes gradually.
      this.schedule(plan.delayMs, 'draining', undefined, () => {
        if (this.socket.connected) this.socket.disconnect();
        this.attemptNow();
      });
    });
  }

  /** Plans the next attempt for `cause`, or gives up when the policy says so. */
  private retryLater(cause: ReconnectCause): void {
    if (this.isClosed) return;
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
    const stale = this.auth.getAccessToken();
    this.auth.refresh(stale).then(
      () => {
        this.refreshing = false;
        this.retryLater({ kind: 'refused', error });
      },
      (refreshErr: unknown) => {
        this.refreshing = false;
        if (this.isClosed) return;
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
      if (!this.isClosed) run();
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
