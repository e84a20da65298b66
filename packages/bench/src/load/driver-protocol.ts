import type { HistogramJson } from './log-histogram';
import type { LoadUser } from './population';

/**
 * Messages between the coordinator (`pnpm bench`) and its load driver processes (IPC, structured clone).
 * Every command carries an id and is answered once by a reply or an error with that id.
 */
export type DriverCommand =
  /** deliveredDebounceMs: the clients' delivery-receipt window (0: none; absent: the SDK's default, one per room per second, without an ack). */
  | { type: 'init'; url: string; clients: LoadUser[]; ackTimeoutMs: number; ackRetries: number; deliveredDebounceMs?: number }
  /** Connects every client not yet created, `perSecond` at most (0: all at once); answers when all are synced or at the deadline. */
  | { type: 'connect'; perSecond: number; timeoutMs: number }
  /** Open-loop sends at `perSecond` from startAt for durationMs; answers once every send has settled or at the deadline. */
  | { type: 'send'; startAt: number; durationMs: number; perSecond: number; contentBytes: number; maxOutstanding: number; settleTimeoutMs: number }
  /** Ends a running send phase now (its answer still waits for the sends to settle). */
  | { type: 'send-stop' }
  /** Messages sent (by anyone) inside [start, end) are measured: latency, deliveries, acks. Resets the window counters. */
  | { type: 'window'; start: number; end: number }
  /** From now on, a client counts as recovered once it reconnected after `since` and finished its sync. */
  | { type: 'mark-recovery'; since: number }
  | { type: 'stats' }
  /** Every (room, seq) this driver's clients had acknowledged. */
  | { type: 'acked' }
  /** Waits up to settleMs until every client holds every acked seq of its room; then a final sync for the rest. */
  | { type: 'verify'; acked: Record<string, number[]>; settleMs: number }
  | { type: 'close' };

export type Envelope = DriverCommand & { id: number };

export type DriverMessage =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string };

export interface DriverCounters {
  /** Sends started (window: sent inside it). */
  sent: number;
  acked: number;
  /** Sends whose ack finally failed (after the SDK's retries), or were still unsettled at the deadline. */
  failed: number;
  unsettled: number;
  /** Sends not started because the client already had maxOutstanding in flight (open-loop overload). */
  skipped: number;
  /** Messages sent inside the window that were acknowledged. */
  ackedInWindow: number;
  /** Live `message:new` of another client's message sent inside the window. */
  deliveredInWindow: number;
  /** A live `message:new` whose id this client had already received (live or by sync). */
  duplicateLive: number;
  /** SDK `message` events for an id already released: the SDK's own de-duplication failing. */
  duplicateReleased: number;
  /** Messages received (live or by sync) at or below the delivered cursor the server had acknowledged. */
  resentAfterAck: number;
  /** Of those, in a sync answer at or below the request's afterSeq: the server's fault. */
  resentByServer: number;
  /** Of those, asked for by the SDK from below the cursor it had already acknowledged. */
  resentStaleRequest: number;
  /** Of those, acknowledged (from live delivery) while the sync that also carried them was in flight. */
  resentOverlap: number;
  /** Messages that arrived in sync answers. */
  syncedMessages: number;
  /** `connect_error` events seen by clients, all causes (transport failures keyed by their message). */
  connectErrors: number;
}

/** The deliveries of the messages sent in one 100 ms slot. */
export interface SlotDeliveries {
  count: number;
  /** Delivered later than `SLOW_DELIVERY_MS` after the send. */
  slow: number;
  maxMs: number;
}

/** What a slot counts as slow: the ramp's p99 bar. */
export const SLOW_DELIVERY_MS = 100;

/** What the storm's timeline counts per second. */
export type TimelineEvent = 'refused' | 'transport' | 'connected' | 'recovered';

/** Counts per epoch second, for each timeline event: none yet. */
export function emptyTimeline(): Record<TimelineEvent, Record<string, number>> {
  return { refused: {}, transport: {}, connected: {}, recovered: {} };
}

export interface DriverStats {
  pid: number;
  clients: number;
  connected: number;
  /** Clients that completed their first sync. */
  synced: number;
  /** Since the last mark-recovery: clients reconnected and synced again. */
  recovered: number;
  /** Since the last mark-recovery: clients that lost their connection. */
  disconnected: number;
  /** Clients per node (`hello.node` of their current connection). */
  nodes: Record<string, number>;
  counters: DriverCounters;
  /** connect_error by code (RATE_LIMITED, UNAVAILABLE, transport…). */
  connectErrorCodes: Record<string, number>;
  /** Clients not connected and not synced, by their SDK connection state (`offline`: the SDK gave up). */
  unsyncedStates: Record<string, number>;
  /** Per epoch second: RATE_LIMITED refusals, transport failures, connections made, recoveries completed. */
  perSecond: Record<TimelineEvent, Record<string, number>>;
  /** Deliveries in the window by the 100 ms slot their message was sent in (epoch ms / 100): where a tail came from. */
  slots: Record<string, SlotDeliveries>;
  ackErrors: Record<string, number>;
  histograms: {
    ack: HistogramJson;
    delivery: HistogramJson;
    deliveryCrossNode: HistogramJson;
    deliverySameNode: HistogramJson;
    /** Client start → connected (includes refusals and backoff, if any). */
    connect: HistogramJson;
    /** mark-recovery `since` → reconnected and synced. */
    recovery: HistogramJson;
    /** Age (now − sent) of live copies that arrived after the same message was synced and acknowledged. */
    lateLiveAge: HistogramJson;
  };
  /** Event-loop utilisation of the driver since the window opened: near 1 means the driver was the bottleneck. */
  eventLoopUtilization: number;
}

export interface VerifyResult {
  /** Client × acked message pairs not received live or by the SDK's own syncs within settleMs. */
  missingBeforeFinalSync: number;
  /** Still missing after an explicit sync of those rooms: acknowledged and never delivered. */
  lost: number;
  examples: string[];
}
