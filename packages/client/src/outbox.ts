import { ChatError, type ErrorObject, type Message } from '@chat/protocol';
import { nextDelay } from './backoff';
import { isNotAnswered, isTransient } from './chat-errors';
import { Emitter } from './emitter';

export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed';

export interface OutboxItem {
  /** The message id, fixed at enqueue time and reused on every attempt (the server de-duplicates by it). */
  id: string;
  roomId: string;
  content: string;
  replyTo?: string;
  /** Ids of files already uploaded for this message id (PROTOCOL.md "Files"). */
  attachments?: string[];
  state: OutboxState;
  attempts: number;
  createdAt: number;
  error?: ErrorObject;
  message?: Message;
}

/** Where items survive a reload (localStorage in the web app, memory in tests and load tools). */
export interface OutboxStorage {
  load(): OutboxItem[];
  save(items: OutboxItem[]): void;
}

export class MemoryOutboxStorage implements OutboxStorage {
  private items: OutboxItem[] = [];
  load(): OutboxItem[] {
    return this.items.map((i) => ({ ...i }));
  }
  save(items: OutboxItem[]): void {
    this.items = items.map((i) => ({ ...i }));
  }
}

export interface OutboxOptions {
  storage: OutboxStorage;
  /** Sends one item with its id; `ChatSocket.sendMessage` in the app. */
  send: (item: { id: string; roomId: string; content: string; replyTo?: string; attachments?: string[] }) => Promise<Message>;
  /** Per room, so a room's messages keep their order; default 1. */
  maxInFlightPerRoom?: number;
  /** Across rooms, so a backlog in many rooms is not flushed at once; default 4. */
  maxInFlight?: number;
  /** Minimum gap between two sends; default 110 ms keeps a backlog under the server's 10 messages/s. */
  intervalMs?: number;
  /**
   * Refusals answered by the server (UNAVAILABLE, RATE_LIMITED) before an item is marked failed; default 5.
   * Attempts that got no answer at all (offline, disconnected, ack timeout) never fail an item.
   */
  maxAttempts?: number;
  backoff?: { baseMs: number; maxMs: number; random?: () => number };
  newId?: () => string;
  now?: () => number;
}

export interface OutboxEvents {
  change: (item: OutboxItem) => void;
}

/** A message to send; `id` is given when the caller already chose it (a retry, a restored draft). */
export interface OutboxDraft {
  id?: string;
  roomId: string;
  content: string;
  replyTo?: string;
  attachments?: string[];
}

// Sent items are remembered this long (by count) so `settled(id)` still answers right after the send.
const REMEMBER_SENT = 200;

/**
 * Messages written while offline (or while the socket is busy) wait here, in order, and are paced out once
 * online. Pure logic over an injected `send` and storage: the web app binds it to a `ChatSocket` and
 * localStorage.
 */
export class Outbox extends Emitter<OutboxEvents> {
  private items: OutboxItem[];
  private online = false;
  private lastStart = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly retryAt = new Map<string, number>();
  /** Refusals the server answered (RATE_LIMITED, UNAVAILABLE) per item; unanswered attempts do not count. */
  private readonly refusals = new Map<string, number>();
  /** Consecutive unanswered attempts per item, only to space out resends to a slow server. */
  private readonly unanswered = new Map<string, number>();
  private readonly waiters = new Map<string, { resolve: (m: Message) => void; reject: (e: ChatError) => void }[]>();
  private readonly sent = new Map<string, Message>();
  private readonly opts: Required<Omit<OutboxOptions, 'backoff'>> & { backoff: NonNullable<OutboxOptions['backoff']> };

  constructor(opts: OutboxOptions) {
    super();
    this.opts = {
      maxInFlightPerRoom: 1,
      maxInFlight: 4,
      intervalMs: 110,
      maxAttempts: 5,
      backoff: { baseMs: 500, maxMs: 15_000 },
      newId: () => crypto.randomUUID(),
      now: () => Date.now(),
      ...opts,
    };
    // An item that was `sending` when the page died may or may not have landed; resending its id is safe
    // because the server answers a known id with the stored message.
    this.items = opts.storage
      .load()
      .filter((i) => i.state !== 'sent')
      .map((i) => (i.state === 'sending' ? { ...i, state: 'queued' as const } : i));
    this.persist();
  }

  /** Adds a message; it is sent when online and its turn comes. */
  enqueue(roomId: string, content: string, replyTo?: string): OutboxItem {
    return this.add(replyTo === undefined ? { roomId, content } : { roomId, content, replyTo });
  }

  /**
   * Adds a draft, or finds the item that already has its id: a failed one is put back in the queue (a
   * retry), a queued or sending one is left as it is. Idempotent, so a UI may call it again after a reload.
   */
  add(draft: OutboxDraft): OutboxItem {
    const existing = draft.id === undefined ? undefined : this.items.find((i) => i.id === draft.id);
    if (existing) {
      if (existing.state === 'failed') this.retry(existing.id);
      return { ...existing };
    }
    const item: OutboxItem = { id: draft.id ?? this.opts.newId(), roomId: draft.roomId, content: draft.content, state: 'queued', attempts: 0, createdAt: this.opts.now() };
    if (draft.replyTo !== undefined) item.replyTo = draft.replyTo;
    if (draft.attachments !== undefined && draft.attachments.length > 0) item.attachments = [...draft.attachments];
    this.items.push(item);
    this.persist();
    this.emit('change', { ...item });
    this.pump();
    return { ...item };
  }

  /**
   * Resolves with the stored message once the item is acknowledged; rejects with its error when it is
   * marked failed (a later `retry` needs a new call). Unknown ids reject with NOT_FOUND.
   */
  settled(id: string): Promise<Message> {
    const done = this.sent.get(id);
    if (done) return Promise.resolve(done);
    const item = this.items.find((i) => i.id === id);
    if (!item) return Promise.reject(new ChatError('NOT_FOUND', 'no such message in the outbox'));
    if (item.state === 'failed') return Promise.reject(this.errorOf(item));
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
  }

  /** Items not yet sent, in order (sent ones leave the outbox). */
  list(): OutboxItem[] {
    return this.items.map((i) => ({ ...i }));
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online) this.pump();
    else this.clearTimer();
  }

  /** Puts a failed item back in the queue, keeping its id and place. */
  retry(id: string): void {
    const item = this.items.find((i) => i.id === id && i.state === 'failed');
    if (!item) return;
    item.state = 'queued';
    item.attempts = 0;
    this.refusals.delete(id);
    this.unanswered.delete(id);
    this.retryAt.delete(id);
    delete item.error;
    this.changed(item);
  }

  discard(id: string): void {
    const item = this.items.find((i) => i.id === id && i.state !== 'sending');
    if (!item) return;
    this.items = this.items.filter((i) => i !== item);
    this.persist();
    this.settle(id, undefined, new ChatError('NOT_FOUND', 'discarded'));
  }

  /** Stops timers; in-flight sends still settle and are recorded. */
  close(): void {
    this.online = false;
    this.clearTimer();
  }

  private pump(): void {
    this.clearTimer();
    if (!this.online) return;
    const now = this.opts.now();
    const inFlight = this.items.filter((i) => i.state === 'sending');
    const perRoom = new Map<string, number>();
    for (const i of inFlight) perRoom.set(i.roomId, (perRoom.get(i.roomId) ?? 0) + 1);
    const blockedRooms = new Set<string>();
    let total = inFlight.length;
    let wakeAt = Infinity;

    for (const item of this.items) {
      if (total >= this.opts.maxInFlight) break;
      if (item.state !== 'queued' || blockedRooms.has(item.roomId)) continue;
      // A room's queue is strictly ordered: nothing overtakes an item that is waiting.
      blockedRooms.add(item.roomId);
      if ((perRoom.get(item.roomId) ?? 0) >= this.opts.maxInFlightPerRoom) continue;
      const due = Math.max(this.retryAt.get(item.id) ?? 0, this.lastStart + this.opts.intervalMs);
      if (due > now) {
        wakeAt = Math.min(wakeAt, due);
        continue;
      }
      this.start(item);
      perRoom.set(item.roomId, (perRoom.get(item.roomId) ?? 0) + 1);
      total++;
      // Only one start per interval: pacing is the point.
      wakeAt = Math.min(wakeAt, this.lastStart + this.opts.intervalMs);
      break;
    }
    if (wakeAt !== Infinity) this.timer = setTimeout(() => this.pump(), Math.max(0, wakeAt - now));
  }

  private start(item: OutboxItem): void {
    item.state = 'sending';
    item.attempts++;
    this.lastStart = this.opts.now();
    this.retryAt.delete(item.id);
    this.changed(item);
    const payload = {
      id: item.id,
      roomId: item.roomId,
      content: item.content,
      ...(item.replyTo !== undefined ? { replyTo: item.replyTo } : {}),
      ...(item.attachments !== undefined ? { attachments: item.attachments } : {}),
    };
    this.opts.send(payload).then(
      (message) => {
        item.state = 'sent';
        item.message = message;
        this.items = this.items.filter((i) => i !== item);
        this.refusals.delete(item.id);
        this.unanswered.delete(item.id);
        this.sent.set(item.id, message);
        if (this.sent.size > REMEMBER_SENT) this.sent.delete(this.sent.keys().next().value!);
        this.changed(item);
        this.settle(item.id, message);
      },
      (err: unknown) => {
        const error = err instanceof ChatError ? err : new ChatError('INTERNAL', err instanceof Error ? err.message : String(err));
        item.error = error.toJSON();
        if (isNotAnswered(error)) {
          // No answer (offline, disconnected, timed out): not the message's fault. It keeps its place and
          // waits for the connection, however long that takes; only the spacing of resends grows.
          const n = this.unanswered.get(item.id) ?? 0;
          this.unanswered.set(item.id, n + 1);
          item.state = 'queued';
          this.retryAt.set(item.id, this.opts.now() + (n === 0 ? 0 : nextDelay(n - 1, this.opts.backoff)));
          this.changed(item);
          return;
        }
        const refusals = (this.refusals.get(item.id) ?? 0) + 1;
        this.refusals.set(item.id, refusals);
        if (isTransient(error) && refusals < this.opts.maxAttempts) {
          item.state = 'queued';
          this.retryAt.set(item.id, this.opts.now() + nextDelay(refusals - 1, this.opts.backoff, error.retryAfterMs));
        } else {
          item.state = 'failed';
        }
        this.changed(item);
        if (item.state === 'failed') this.settle(item.id, undefined, this.errorOf(item));
      },
    );
  }

  private errorOf(item: OutboxItem): ChatError {
    const e = item.error;
    return e ? new ChatError(e.code, e.message, { retryAfterMs: e.retryAfterMs, details: e.details }) : new ChatError('INTERNAL', 'send failed');
  }

  private settle(id: string, message: Message | undefined, error?: ChatError): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    for (const w of list) {
      if (message) w.resolve(message);
      else w.reject(error ?? new ChatError('INTERNAL', 'send failed'));
    }
  }

  private changed(item: OutboxItem): void {
    this.persist();
    this.emit('change', { ...item });
    this.pump();
  }

  private persist(): void {
    this.opts.storage.save(this.items.map((i) => ({ ...i })));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
