import { ChatError, type ErrorCode } from '@chat/protocol';
import type { Database } from '@chat/db';
import type { NodeRelay } from '../../infra/relay/node-relay';
import type { MessageRow } from '../../views/message-view';
import { GroupCommitWriter, type BatchStats, type BatchStore, type GroupCommitOptions, type Outcome, type SendRequest, type SendResult, type SendTiming } from './group-commit';
import { MembershipRefusal } from './membership-refusal';
import { RateGate } from './rate-gate';

export type SendWriterMode = 'local' | 'relay';

/**
 * Where a send was committed: `local` (this node is the writer, or the mode is local), `quiet` (this node
 * sends too little for the writer to merge anything: committed here), `relayed` (by the writer node),
 * `fallback` (the writer did not answer: committed here).
 */
export const SEND_ROUTES = ['local', 'quiet', 'relayed', 'fallback'] as const;
export type SendRoute = (typeof SEND_ROUTES)[number];

export interface SendWriterOptions {
  mode: SendWriterMode;
  groupCommit: GroupCommitOptions;
  /** How long a batch waits for the writer node before this node commits it itself. */
  relayTimeoutMs: number;
  /**
   * Sends per second through this node from which its batches go to the writer (0: always); once relaying,
   * it commits its own again below half of it. A quiet node's batches are single sends: the writer would
   * add its two hops and merge nothing.
   */
  relayMinRate: number;
  /** Front batches on their way to the writer at once (default 1). */
  relayMaxInFlight?: number;
  onBatch: (stats: BatchStats) => void;
  /**
   * A message this node stored for another node's sender (the writer serving a relayed batch). This node's
   * own sends are answered through `submit`; these are not, so the caller learns of them here (the room's
   * seq for history reads on this node) and, when `announce` (the sender's node asked for it:
   * `SendRequest.writerAnnounces`), broadcasts it to the room: the answer then tells the sender's node
   * that it is broadcast (`SendResult.announced`).
   */
  onRelayedStored?: (row: MessageRow, announce: boolean) => void;
  /** This node's sends (`count` of them at once), by where they were committed. */
  onRoute?: (route: SendRoute, count: number) => void;
}

/** A send's outcome as it travels between nodes (JSON: dates as ISO strings, errors as their code). */
type WireOutcome =
  | { row: Omit<MessageRow, 'created_at' | 'edited_at' | 'deleted_at'> & { created_at: string; edited_at: string | null; deleted_at: string | null }; created: boolean; announced?: true }
  | { code: ErrorCode; message: string; retryAfterMs?: number; roomId?: string }
  | { failed: string };

type WireAnswer = { outcomes: WireOutcome[] } | { fallback: true } | { relayError: string };

/**
 * The node's send writer (docs/ARCHITECTURE.md, "One writer for the cluster").
 *
 * - `local`: every node group-commits its own sends (`GroupCommitWriter` on the database).
 * - `relay` (cluster default): one node, the holder of the relay's writer lease, commits the sends of the
 *   whole cluster. Every other node batches its own sends (the `front` writer), then hands each batch to
 *   the writer node in one relay request; the writer puts them in its own group commit (`local`), where
 *   they share batches with everyone else's, and answers each send's outcome. Rooms are then locked by one
 *   transaction at a time instead of four nodes' transactions queueing behind each other's WAL flushes,
 *   and the batches are the cluster's, not a quarter of it (a transaction costs PostgreSQL ten times a
 *   message: docs/performance.md).
 *
 * A node that sends fewer than `relayMinRate` messages a second (half of it, once relaying) commits its own
 * batches (`quiet`): they are single sends, which the writer would merge with nothing and delay by two hops.
 *
 * The database keeps every guarantee whoever writes (room lock → gapless seq in commit order; unique ids →
 * a retried id is answered, never stored twice), so routing is only an optimisation: a writer that does not
 * answer within `relayTimeoutMs` (dead, draining, cut off) gets no more of this batch, which this node
 * commits itself; if the writer did commit it meanwhile, the ids are found stored and answered as stored.
 * Acknowledgements still come only after a commit, from whichever node made it.
 */
export class SendWriter {
  private readonly local: GroupCommitWriter;
  private readonly front: GroupCommitWriter | undefined;
  private readonly gate: RateGate;

  constructor(
    db: Database | BatchStore,
    private readonly relay: NodeRelay,
    private readonly opts: SendWriterOptions,
  ) {
    // With several batches in flight (GROUP_COMMIT_MAX_IN_FLIGHT), a room's messages are still broadcast in
    // seq order: each batch answers after the one before it.
    this.local = new GroupCommitWriter(db, { ...opts.groupCommit, answerInOrder: true }, opts.onBatch);
    this.gate = new RateGate(opts.relayMinRate, Date.now);
    if (opts.mode === 'relay') {
      // The front batches this node's sends bound for the writer. It does not space its batches: the writer
      // that commits them does (`minIntervalMs`), once for all nodes. Several of its batches may be on their
      // way at once: the writer's group commit merges them anyway, and a send that waited for the round trip
      // of the batch before it waited for the writer's batch interval twice (docs/performance.md, "The
      // relay's front in flight"). Its batches are answered as their answers come: the writer answers in order
      // already, and a batch waiting out SEND_RELAY_TIMEOUT_MS must not hold back the ones after it.
      this.front = new GroupCommitWriter((reqs) => this.route(reqs), { ...opts.groupCommit, minIntervalMs: 0, maxInFlight: opts.relayMaxInFlight ?? 1, answerInOrder: false });
      relay.serve((payload) => this.serveRelayed(payload));
    }
  }

  /** Sends waiting in this node's queues. */
  get depth(): number {
    return this.local.depth + (this.front?.depth ?? 0);
  }

  submit(req: SendRequest): Promise<SendResult & { timing: SendTiming }> {
    if (!this.front) return this.local.submit(req);
    this.gate.count();
    // A send this node commits itself goes straight to its own group commit. The front only gathers batches
    // for the writer node; as a second serial stage in front of this node's group commit it held each send
    // for a whole batch of the writer's (a node that is the writer: 1 node, or the lease holder of a
    // cluster), which doubled a send's wait under load (docs/performance.md, "The writer's own sends").
    const here = this.hereRoute();
    if (here) {
      this.opts.onRoute?.(here, 1);
      return this.local.submit(req);
    }
    return this.front.submit(req);
  }

  async close(): Promise<void> {
    await this.front?.close();
    await this.local.close();
  }

  /** `local` when this node is the writer, `quiet` when it sends too little to relay; undefined: relay. */
  private hereRoute(): 'local' | 'quiet' | undefined {
    if (this.relay.writer() === this.relay.nodeId) return 'local';
    if (!this.gate.open()) return 'quiet';
    return undefined;
  }

  /** A batch of the front: relayed to the writer node, or committed here if the route changed since. */
  private async route(reqs: SendRequest[]): Promise<Outcome[]> {
    const here = this.hereRoute();
    if (here) {
      this.opts.onRoute?.(here, reqs.length);
      return this.commitHere(reqs);
    }
    const writer = this.relay.writer();
    let answer: WireAnswer;
    let unanswered = false;
    try {
      answer = (await this.relay.request(writer, { reqs }, this.opts.relayTimeoutMs)) as WireAnswer;
    } catch {
      // No answer in time (RelayTimeout), or Redis refused the publish: commit here, as below.
      answer = { fallback: true };
      unanswered = true;
    }
    if ('outcomes' in answer && answer.outcomes.length === reqs.length) {
      this.opts.onRoute?.('relayed', reqs.length);
      return answer.outcomes.map(fromWire);
    }
    // No answer, a writer that is shutting down, or one that failed as a whole: commit here.
    this.opts.onRoute?.('fallback', reqs.length);
    const outcomes = await this.commitHere(reqs);
    if (!unanswered || this.relay.writer() !== writer) return outcomes;
    // Unanswered, and the writer still holds its lease: it is slow, not gone. A send found stored here was
    // committed by it, and it broadcast it (`writerAnnounces`) as its commit was answered; broadcast here too, it
    // reached the room twice (a 5,000-client storm: 160 live redeliveries). A writer that lost its lease may
    // have died between its commit and its broadcast: then this node broadcasts, as for any stored retry. One
    // killed in that moment whose lease has not run out yet leaves the message to sync (PROTOCOL.md: live or
    // through sync; members get it with the room's next message or their next connection).
    return outcomes.map((o, i) => (o instanceof Error || o.created || reqs[i]?.writerAnnounces !== true ? o : { ...o, announced: true }));
  }

  /** Through this node's own group commit, so relayed and own sends share batches. */
  private commitHere(reqs: SendRequest[]): Promise<Outcome[]> {
    return Promise.all(reqs.map((req) => this.local.submit(req).then(({ row, created }): Outcome => ({ row, created }), (err: unknown) => toError(err))));
  }

  private async serveRelayed(payload: unknown): Promise<WireAnswer> {
    if (this.local.closing) return { fallback: true };
    const { reqs } = payload as { reqs: SendRequest[] };
    const outcomes = await this.commitHere(reqs.map((r) => ({ ...r, replyTo: r.replyTo ?? undefined })));
    const stored = this.opts.onRelayedStored;
    return {
      outcomes: outcomes.map((o, i) => {
        if (o instanceof Error || !o.created || !stored) return toWire(o);
        // Broadcast here, in commit order, rather than by the sender's node once this answer reaches it: the
        // room's other nodes get the message one Redis hop and one event loop sooner (docs/performance.md,
        // "The writer announces what it commits").
        const announce = reqs[i]?.writerAnnounces === true;
        stored(o.row, announce);
        return toWire(o, announce);
      }),
    };
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** `announced` overrides the outcome's own flag (the writer marks what it broadcast without copying the outcome). */
function toWire(o: Outcome, announced = o instanceof Error ? false : o.announced === true): WireOutcome {
  if (o instanceof ChatError) {
    return { code: o.code, message: o.message, ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}), ...(o instanceof MembershipRefusal ? { roomId: o.roomId } : {}) };
  }
  if (o instanceof Error) return { failed: o.message };
  const { row } = o;
  return {
    created: o.created,
    ...(announced ? { announced: true as const } : {}),
    row: { ...row, created_at: row.created_at.toISOString(), edited_at: row.edited_at?.toISOString() ?? null, deleted_at: row.deleted_at?.toISOString() ?? null },
  };
}

function fromWire(o: WireOutcome): Outcome {
  if ('failed' in o) return new Error(`the writer node failed this send: ${o.failed}`);
  if ('code' in o) {
    if (o.roomId !== undefined) return new MembershipRefusal(o.code, o.message, o.roomId);
    return new ChatError(o.code, o.message, o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {});
  }
  const { row } = o;
  return {
    created: o.created,
    announced: o.announced === true,
    row: {
      ...row,
      created_at: new Date(row.created_at),
      edited_at: row.edited_at === null ? null : new Date(row.edited_at),
      deleted_at: row.deleted_at === null ? null : new Date(row.deleted_at),
    },
  };
}
