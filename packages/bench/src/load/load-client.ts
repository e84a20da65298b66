import type { Agent } from 'node:http';
import { ChatSocket, staticToken, type ChatSocketOptions } from '@chat/client';
import type { Message, SyncRequest, SyncRoomResult } from '@chat/protocol';
import type { LoadUser } from './population';
import { SeqSet } from './seq-set';

/** The SDK's socket, with its sync answers and acknowledged delivery cursors visible to the benchmark. */
class ObservedChatSocket extends ChatSocket {
  /** Called with the request, its answer, and what `beforeSync` returned when the request was made. */
  onSyncAnswer: ((request: SyncRequest, rooms: SyncRoomResult[], before: number) => void) | undefined;
  beforeSync: (() => number) | undefined;
  onDeliveredAck: ((roomId: string, seq: number) => void) | undefined;

  override async sync(request: SyncRequest): Promise<SyncRoomResult[]> {
    const before = this.beforeSync?.() ?? 0;
    const rooms = await super.sync(request);
    this.onSyncAnswer?.(request, rooms, before);
    return rooms;
  }

  override async markDelivered(roomId: string, seq: number): Promise<void> {
    await super.markDelivered(roomId, seq);
    this.onDeliveredAck?.(roomId, seq);
  }
}

/** What a client tells its driver; the driver aggregates. */
export interface LoadClientSink {
  /** A live message:new (first copy or not), with what the content says about its sending. */
  live(client: LoadClient, message: Message, firstCopy: boolean): void;
  /**
   * A message at or below the delivered cursor the server had already acknowledged for this client:
   * - `live`: a broadcast that arrived after the client had fetched the same message by sync and acked it;
   * - `sync-server`: a sync answer with a seq at or below the request's afterSeq (the server's fault);
   * - `sync-stale`: the SDK asked (afterSeq) from below the cursor it had already acknowledged;
   * - `sync-overlap`: acknowledged (from live delivery) while the sync that also carried it was in flight.
   */
  resentAfterAck(client: LoadClient, via: ResendKind, message: Message): void;
  synced(client: LoadClient, messages: number): void;
  duplicateReleased(client: LoadClient): void;
  connectError(client: LoadClient, code: string): void;
  connected(client: LoadClient): void;
  /** Every connection made, the first and each reconnection. */
  connectionUp(client: LoadClient): void;
  recovered(client: LoadClient): void;
  disconnected(client: LoadClient): void;
}

export type ResendKind = 'live' | 'sync-server' | 'sync-stale' | 'sync-overlap';

const now = () => performance.timeOrigin + performance.now();

/**
 * One simulated user on one `@chat/client` socket through the SDK's whole recovery path (jittered
 * reconnection honouring RATE_LIMITED hints, sync after every connect and on gaps). Besides the SDK's
 * de-duplicated `message` stream it watches the raw `message:new` events, so redeliveries are seen
 * even though the SDK would hide them from an app.
 */
export class LoadClient {
  readonly chat: ObservedChatSocket;
  // Bitmaps by room and seq, not Sets of ids: a driver's clients grow them in step (seq-set.ts).
  /** Seqs received (live, released by the SDK, or in a sync answer). */
  private readonly received = new SeqSet();
  /** Seen in live message:new events: a second live copy of a seq is a redelivery on the wire. */
  private readonly live = new SeqSet();
  /** Released by the SDK: a second release of a seq is a duplicate the SDK let through. */
  private readonly released = new SeqSet();
  private ackedCursor = 0;
  node: string | undefined;
  startedAt = 0;
  connectedAt: number | undefined;
  firstSynced = false;
  outstanding = 0;
  sentCount = 0;
  /** Recovery tracking after mark-recovery. */
  private recovery: { since: number; lost: boolean; awaitingSync: boolean; recoveredAt: number | undefined } | undefined;

  constructor(
    readonly user: LoadUser,
    url: string,
    agent: Agent,
    ack: NonNullable<ChatSocketOptions['ack']>,
    private readonly sink: LoadClientSink,
    deliveredDebounceMs?: number,
  ) {
    this.chat = new ObservedChatSocket({
      url,
      auth: staticToken(user.accessToken),
      agent,
      forceNew: true,
      autoConnect: false,
      ack,
      ...(deliveredDebounceMs === undefined ? {} : { deliveredDebounceMs }),
    });
    const socket = this.chat.socket;
    socket.on('message:new', (m) => {
      // A copy that a sync answer brought first is not counted: a gap sync and a late live copy overlap.
      const first = this.live.add(m.roomId, m.seq);
      this.received.add(m.roomId, m.seq);
      if (first && m.seq <= this.ackedCursor && m.roomId === user.roomId) sink.resentAfterAck(this, 'live', m);
      sink.live(this, m, first);
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      // A refusal by the server carries its error code; anything else is the transport's own message.
      sink.connectError(this, err.data?.code ?? `TRANSPORT: ${err.message}`);
    });
    this.chat.beforeSync = () => this.ackedCursor;
    this.chat.onSyncAnswer = (request, rooms, ackedAtRequest) => {
      let n = 0;
      for (const r of rooms) {
        const afterSeq = request.rooms?.find((q) => q.roomId === r.roomId)?.afterSeq;
        for (const m of r.messages) {
          if (r.roomId === user.roomId && m.seq <= this.ackedCursor) {
            const kind = afterSeq !== undefined && m.seq <= afterSeq ? 'sync-server' : m.seq <= ackedAtRequest ? 'sync-stale' : 'sync-overlap';
            sink.resentAfterAck(this, kind, m);
          }
          this.received.add(r.roomId, m.seq);
          n++;
        }
      }
      sink.synced(this, n);
    };
    this.chat.onDeliveredAck = (roomId, seq) => {
      if (roomId === user.roomId) this.ackedCursor = Math.max(this.ackedCursor, seq);
    };
    this.chat.on('message', (m) => {
      if (!this.released.add(m.roomId, m.seq)) sink.duplicateReleased(this);
      this.received.add(m.roomId, m.seq);
    });
    this.chat.on('hello', (hello) => {
      this.node = hello.node;
      if (this.recovery?.lost) this.recovery.awaitingSync = true;
    });
    this.chat.on('connection', (state) => {
      if (state === 'connected') {
        sink.connectionUp(this);
        if (this.connectedAt === undefined) {
          this.connectedAt = now();
          sink.connected(this);
        }
      } else if (this.recovery && !this.recovery.lost && state !== 'connecting') {
        this.recovery.lost = true;
        sink.disconnected(this);
      }
    });
    this.chat.on('synced', () => {
      this.firstSynced = true;
      const r = this.recovery;
      if (r?.awaitingSync && r.recoveredAt === undefined) {
        r.awaitingSync = false;
        r.recoveredAt = now();
        sink.recovered(this);
      }
    });
  }

  get connected(): boolean {
    return this.chat.socket.connected;
  }

  start(): void {
    this.startedAt = now();
    this.chat.connect();
  }

  markRecovery(since: number): void {
    this.recovery = { since, lost: false, awaitingSync: false, recoveredAt: undefined };
  }

  get recoveredAt(): number | undefined {
    return this.recovery?.recoveredAt;
  }

  /** Acked seqs of the room this client has not received. */
  missing(acked: readonly number[]): number[] {
    return acked.filter((seq) => !this.received.has(this.user.roomId, seq));
  }

  /** An explicit sync from just below the first missing seq, paged (bounded); what a gap would trigger. */
  async syncFrom(afterSeq: number): Promise<void> {
    let after = afterSeq;
    for (let page = 0; page < 200; page++) {
      const [room] = await this.chat.sync({ rooms: [{ roomId: this.user.roomId, afterSeq: after }] });
      if (!room || room.messages.length === 0 || !room.hasMore) return;
      after = room.messages[room.messages.length - 1]!.seq;
    }
  }

  close(): void {
    this.chat.close();
  }
}
