import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import type { Ack, Message } from '@chat/protocol';
import { io } from 'socket.io-client';
import type { RawSocket } from './harness';

type SendAck = Ack<{ message: Message }>;
type SyncAck = Ack<{ rooms: { roomId: string; messages: Message[]; hasMore: boolean; lastSeq: number }[] }>;

/**
 * A chat client for fault-injection tests, on the raw Socket.IO client so that the test controls and sees
 * every retry: it reconnects after every kind of disconnect (including the two socket.io-client leaves
 * alone: a middleware's `connect_error` and a server-side disconnect), syncs after every `hello` and on a
 * seq gap, and retries an unacknowledged send with the same id until it is acknowledged or the deadline
 * passes.
 */
export class JepsenClient {
  readonly socket: RawSocket;
  readonly agent: Agent;
  /** Every message seen, live or through sync, by id; `copies` counts how often each id arrived live. */
  readonly received = new Map<string, Message>();
  readonly liveCopies = new Map<string, number>();
  readonly nodes: string[] = [];
  reconnects = 0;
  private contiguous = 0;
  private syncing: Promise<void> | undefined;
  private closed = false;

  constructor(
    entryUrl: string,
    readonly source: string,
    token: string,
    readonly roomId: string,
  ) {
    this.agent = new Agent({ localAddress: source, keepAlive: true });
    this.socket = io(entryUrl, {
      auth: { token },
      agent: this.agent as never,
      forceNew: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 2000,
      randomizationFactor: 0.5,
    }) as RawSocket;
    this.socket.on('hello', (hello) => {
      this.nodes.push(hello.node);
      void this.sync();
    });
    this.socket.on('message:new', (m) => {
      if (m.roomId !== this.roomId) return;
      this.liveCopies.set(m.id, (this.liveCopies.get(m.id) ?? 0) + 1);
      this.add([m]);
      if (m.seq > this.contiguous) void this.sync();
    });
    this.socket.on('disconnect', (reason) => {
      this.reconnects++;
      // The server (or a drain) closed us deliberately: socket.io-client will not come back by itself.
      if (reason === 'io server disconnect' && !this.closed) setTimeout(() => this.socket.connect(), 100 + Math.random() * 400);
    });
    this.socket.on('connect_error', (err) => {
      // A middleware refusal (UNAVAILABLE while draining, RATE_LIMITED): retry after the hint, jittered.
      const data = (err as Error & { data?: { retryAfterMs?: number } }).data;
      if (data && !this.closed) setTimeout(() => this.socket.connect(), (data.retryAfterMs ?? 500) * (0.5 + Math.random()));
    });
  }

  /** Sends `content` with one id, retrying until acknowledged; undefined if the deadline passed first. */
  async send(content: string, deadline: number): Promise<{ id: string; message?: Message; attempts: number }> {
    const id = randomUUID();
    let attempts = 0;
    while (Date.now() < deadline) {
      if (!this.socket.connected) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      attempts++;
      let ack: SendAck;
      try {
        ack = (await this.socket.timeout(3000).emitWithAck('message:send', { id, roomId: this.roomId, content })) as SendAck;
      } catch {
        continue; // no answer (node died, transport closed): same id again
      }
      if (ack.ok) {
        // As the SDK does: our own message comes in the ack (the server does not echo it to this socket).
        this.add([ack.message]);
        return { id, message: ack.message, attempts };
      }
      await new Promise((r) => setTimeout(r, ack.error.retryAfterMs ?? 200));
    }
    return { id, attempts };
  }

  /** Pages `sync` from the highest contiguous seq until nothing more. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        for (let page = 0; page < 1000 && this.socket.connected; page++) {
          const ack = (await this.socket.timeout(5000).emitWithAck('sync', { rooms: [{ roomId: this.roomId, afterSeq: this.contiguous }] })) as SyncAck;
          if (!ack.ok) return;
          const room = ack.rooms.find((r) => r.roomId === this.roomId);
          if (!room) return;
          this.add(room.messages);
          if (!room.hasMore) return;
        }
      } catch {
        // Disconnected mid-sync: the next hello syncs again.
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  get highestContiguousSeq(): number {
    return this.contiguous;
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    this.agent.destroy();
  }

  private add(messages: Message[]): void {
    for (const m of messages) if (!this.received.has(m.id)) this.received.set(m.id, m);
    const seqs = new Set([...this.received.values()].map((m) => m.seq));
    while (seqs.has(this.contiguous + 1)) this.contiguous++;
  }
}
