import type { ReplicaHealth } from '@chat/db';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The node's Prometheus metrics, on a registry of its own (tests build several apps in one process). */
export function createMetrics(nodeId: string, sources: { replicas?: () => ReplicaHealth[] } = {}) {
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
  return {
    registry,
    socketsConnected: new Gauge({ name: 'chat_sockets_connected', help: 'Connected sockets on this node', registers: [registry] }),
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
