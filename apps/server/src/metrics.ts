import type { ReplicaHealth } from '@chat/db';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A database connection pool as the metrics see it (pg.Pool's own counters). */
export interface PoolState {
  pool: string;
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/** What the metrics read when scraped, from the pieces that own the numbers. */
export interface MetricSources {
  replicas?: () => ReplicaHealth[];
  pools?: () => PoolState[];
  redis?: () => { role: string; up: boolean }[];
}

/**
 * The node's Prometheus metrics, on a registry of its own (tests build several apps in one process).
 * Every alert in deploy/prometheus/alerts.yml reads one of these (docs/alerts.md); the event-loop lag is
 * prom-client's own `nodejs_eventloop_lag_*` (default metrics).
 */
export function createMetrics(nodeId: string, sources: MetricSources = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry });
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  /** A gauge per replica, read from the router's last probe when scraped; a replica without a value is left out. */
  const replicaGauge = ({ name, help, value }: { name: string; help: string; value: (r: ReplicaHealth) => number | null }) =>
    new Gauge({
      name,
      help,
      labelNames: ['replica'] as const,
      registers: [registry],
      collect() {
        for (const r of sources.replicas?.() ?? []) {
          const v = value(r);
          if (v !== null) this.set({ replica: r.name }, v);
        }
      },
    });
  /** Read from the group-commit writer when scraped (set by the messages feature). */
  let sendQueue: { depth: () => number; limit: number } | undefined;
  return {
    registry,
    /** The messages feature hands over its writer's queue, read at each scrape. */
    watchSendQueue(queue: { depth: () => number; limit: number }) {
      sendQueue = queue;
    },
    sendQueueDepth: new Gauge({
      name: 'chat_send_queue_depth',
      help: 'Sends waiting in the group-commit queue of this node (refused with RATE_LIMITED at chat_send_queue_limit)',
      registers: [registry],
      collect() {
        if (sendQueue) this.set(sendQueue.depth());
      },
    }),
    sendQueueLimit: new Gauge({
      name: 'chat_send_queue_limit',
      help: 'GROUP_COMMIT_MAX_QUEUE: the queue depth at which this node refuses sends',
      registers: [registry],
      collect() {
        if (sendQueue) this.set(sendQueue.limit);
      },
    }),
    dbPoolConnections: new Gauge({
      name: 'chat_db_pool_connections',
      help: 'Database connections of this node by pool and state (in_use, idle) and the pool cap (max)',
      labelNames: ['pool', 'state'] as const,
      registers: [registry],
      collect() {
        for (const p of sources.pools?.() ?? []) {
          this.set({ pool: p.pool, state: 'in_use' }, p.total - p.idle);
          this.set({ pool: p.pool, state: 'idle' }, p.idle);
          this.set({ pool: p.pool, state: 'max' }, p.max);
        }
      },
    }),
    dbPoolWaiting: new Gauge({
      name: 'chat_db_pool_waiting',
      help: 'Queries of this node waiting for a free connection, by pool',
      labelNames: ['pool'] as const,
      registers: [registry],
      collect() {
        for (const p of sources.pools?.() ?? []) this.set({ pool: p.pool }, p.waiting);
      },
    }),
    redisUp: new Gauge({
      name: 'chat_redis_up',
      help: "Whether each of this node's Redis connections is ready (1) or not (0); absent in embedded mode",
      labelNames: ['connection'] as const,
      registers: [registry],
      collect() {
        for (const c of sources.redis?.() ?? []) this.set({ connection: c.role }, c.up ? 1 : 0);
      },
    }),
    httpRequests: new Histogram({
      name: 'chat_http_request_seconds',
      help: 'HTTP requests answered by this node, by method, route pattern and status class',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    handshakeQueue: new Histogram({
      name: 'chat_handshake_queue_seconds',
      help: 'How long Socket.IO handshakes waited between NGINX forwarding them and this node reading them (X-Request-Start)',
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
    socketsConnected: new Gauge({ name: 'chat_sockets_connected', help: 'Connected sockets on this node', registers: [registry] }),
    heldFlushes: new Counter({
      name: 'chat_socket_held_flushes_total',
      help: 'Receipts events to busy sockets wait for their next message (RECEIPT_HOLD_MS): sockets whose held packets left with it (left="with_next") or at the deadline (left="at_deadline"); quiet sockets sent at once (left="at_once")',
      labelNames: ['left'] as const,
      registers: [registry],
    }),
    slowReadersCut: new Counter({
      name: 'chat_slow_readers_cut_total',
      help: 'Sockets disconnected because their outbound queue on this node was over the limit',
      registers: [registry],
    }),
    connections: new Counter({
      name: 'chat_connections_total',
      help: 'Socket handshakes by outcome (accepted, or the rejection code)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    socketEvents: new Counter({
      name: 'chat_socket_events_total',
      help: 'Client events handled, by event and outcome',
      labelNames: ['event', 'outcome'] as const,
      registers: [registry],
    }),
    unhandledRejections: new Counter({
      name: 'chat_unhandled_rejections_total',
      help: 'Promise rejections nobody handled (each a bug; logged, and the node keeps running)',
      registers: [registry],
    }),
    messagesReceived: new Counter({ name: 'chat_messages_received_total', help: 'message:send events received', registers: [registry] }),
    messagesPersisted: new Counter({ name: 'chat_messages_persisted_total', help: 'Messages committed', registers: [registry] }),
    messagesDelivered: new Counter({
      name: 'chat_messages_delivered_total',
      help: 'message:new broadcasts issued by this node',
      registers: [registry],
    }),
    persistBatchSize: new Histogram({
      name: 'chat_persist_batch_size',
      help: 'Messages per group-commit transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    sendRoutes: new Counter({
      name: 'chat_send_routes_total',
      help: "This node's sends by where they were committed: local (this node is the writer, or SEND_WRITER=local), quiet (fewer sends than SEND_RELAY_MIN_RATE: committed here), relayed (by the writer node), fallback (the writer did not answer: committed here)",
      labelNames: ['route'] as const,
      registers: [registry],
    }),
    persistLatency: new Histogram({
      name: 'chat_persist_batch_seconds',
      help: 'Group-commit transaction latency',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    searchIndexMerge: new Histogram({
      name: 'chat_search_index_merge_seconds',
      help: "Merges of the search index's pending list run by this node, by duration",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    timeoutRoomsLoaded: new Counter({
      name: 'chat_moderation_timeout_rooms_loaded_total',
      help: "Rooms whose active timeouts this node read from the database: for a send that waited (send), or in the background (background: a connected socket's rooms, a stale room's reload)",
      labelNames: ['why'] as const,
      registers: [registry],
    }),
    searchIndexMergedPages: new Counter({
      name: 'chat_search_index_merged_pages_total',
      help: "Pending-list pages of the search index merged by this node",
      registers: [registry],
    }),
    replicaUp: replicaGauge({
      name: 'chat_replica_up',
      help: 'Whether reads may go to this replica (1) or it is skipped as down or lagging (0)',
      value: (r) => (r.up ? 1 : 0),
    }),
    replicaLag: replicaGauge({
      name: 'chat_replica_lag_seconds',
      help: 'Replica replay lag behind the primary (0 when caught up), as last probed',
      value: (r) => r.lagSeconds,
    }),
    replicaLagBytes: replicaGauge({ name: 'chat_replica_lag_bytes', help: 'WAL bytes the replica has yet to replay, as last probed', value: (r) => r.lagBytes }),
    dbReads: new Counter({
      name: 'chat_db_reads_total',
      help: 'Routed reads by target (primary, or a replica name)',
      labelNames: ['target'] as const,
      registers: [registry],
    }),
    sendStages: new Histogram({
      name: 'chat_send_stage_seconds',
      help: 'Where a message:send spends its time on the node, by stage (the latency budget; docs/performance.md)',
      labelNames: ['stage'] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'chat_send_ack_seconds',
      help: 'message:send received to acknowledgement',
      buckets: latencyBuckets,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
