import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { LIMITS } from '@chat/protocol';

/**
 * Configuration comes from the environment and is validated once at start-up. The mode follows from it:
 * without DATABASE_URL the node is embedded (PGlite under DATA_DIR); with it, PostgreSQL primary (+ replicas).
 */
const csv = z
  .string()
  .optional()
  .transform((s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []));

const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Connections the kernel holds for the node before it accepts them (capped by net.core.somaxconn). Node's
   * own default, 511, overflows when a whole herd reconnects to restarted nodes: the dropped handshakes
   * made NGINX's 2 s upstream connect time out (504), and every client waited out a back-off for nothing.
   */
  LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65535).default(4096),
  /**
   * A Socket.IO handshake that waited longer than this in front of the node (NGINX's X-Request-Start
   * stamp) is refused before the upgrade: its client is about to give up (socket.io-client's connect
   * timeout is 20 s), and answering it would keep the clients behind it waiting too
   * (socket/handshake-queue.ts). Not lower: a refused client only comes back sooner, and in a storm the
   * retries cost more than the queue (5 s: 55.7 s to recover against 43.6 s without; docs/performance.md).
   * 0 = never refuse.
   */
  HANDSHAKE_QUEUE_MAX_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  NODE_ID: z.string().min(1).max(64).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_REPLICA_URLS: csv,
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(50).default(20),
  DATABASE_CONNECTION_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  DATABASE_REPLICA_MAX_LAG_SECONDS: z.coerce.number().positive().default(5),
  DATABASE_REPLICA_PROBE_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); none = the socket's peer is the client. */
  TRUST_PROXY: csv,
  /** Worker processes per node (main.ts forks them behind @socket.io/sticky). */
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** On SIGTERM, sockets are closed gradually over this window so clients spread over the other nodes. */
  DRAIN_WINDOW_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Presence heartbeat: a node refreshes its entries this often; they expire after 3 missed beats. */
  /** Which Socket.IO Redis adapter joins the nodes (with REDIS_URL); see socket/adapter.ts. */
  SOCKET_ADAPTER: z.enum(['sharded', 'classic']).default('sharded'),
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  // Opens the operator API (/ops/...: the admin command line, QA's storm) besides site admins' own tokens.
  OPS_TOKEN: z.string().min(32, 'OPS_TOKEN must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(5).max(86400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  ALLOWED_ORIGINS: csv,
  MESSAGES_PER_SECOND: z.coerce.number().int().positive().default(10),
  /**
   * Whether the node applies pending migrations at start (embedded mode, `pnpm cluster`). Off where nodes
   * connect as a role that cannot change the schema (Compose): they then refuse to start on a database that
   * is behind, and `pnpm migrate` runs as the owner first.
   */
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Scales every REST budget (LIMITS.httpRequestsPerMinute), e.g. 4 where many users share few addresses. */
  HTTP_BUDGET_MULTIPLIER: z.coerce.number().positive().default(1),
  /** Password hashes (argon2id, ~19 MiB each) run at once per node, and how many may wait; more: UNAVAILABLE. */
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  PASSWORD_HASH_MAX_WAITING: z.coerce.number().int().min(0).max(10_000).default(64),
  /** Events of one socket handled at once; more are answered RATE_LIMITED (an SDK sends one message at a time). */
  SOCKET_EVENTS_IN_FLIGHT_MAX: z.coerce.number().int().min(1).max(100_000).default(LIMITS.eventsInFlightPerSocket),
  /** Sockets of one user connected at once across the cluster, and of one client address on one node. */
  SOCKETS_PER_USER_MAX: z.coerce.number().int().min(1).max(100_000).default(LIMITS.socketsPerUser),
  SOCKETS_PER_ADDRESS_MAX: z.coerce.number().int().min(1).max(1_000_000).default(LIMITS.socketsPerAddress),
  /** A socket whose outbound queue exceeds either is disconnected (a client that does not read); checked every second. */
  SOCKET_OUTBOUND_MAX_PACKETS: z.coerce.number().int().min(1).default(1000),
  SOCKET_OUTBOUND_MAX_BYTES: z.coerce.number().int().min(1024).default(8 * 1024 * 1024),
  GROUP_COMMIT_MAX_DELAY_MS: z.coerce.number().min(0).max(100).default(0),
  GROUP_COMMIT_MAX_BATCH: z.coerce.number().int().min(1).max(5000).default(256),
  // 3 ms since 2026-12-08 (10 before): a higher four-node knee and half the median at moderate rates, for more
  // PostgreSQL CPU below the knee (docs/performance.md, "The writer's batches 3 ms apart").
  GROUP_COMMIT_MIN_INTERVAL_MS: z.coerce.number().min(0).max(100).default(3),
  GROUP_COMMIT_INTERVAL_MIN_RATE: z.coerce.number().int().min(0).max(1_000_000).default(400),
  /**
   * Who commits sends with REDIS_URL: `relay` (one writer node for the cluster, the others hand it their
   * batches) or `local` (every node its own); see features/messages/send-writer.ts. Embedded mode: local.
   */
  SEND_WRITER: z.enum(['relay', 'local']).default('relay'),
  /** A batch handed to the writer node and not answered within this is committed by its own node. */
  SEND_RELAY_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /**
   * With SEND_WRITER=relay: a node sending fewer than this many messages a second (half of it, once it
   * relays) commits its own batches (single sends, which the writer would only delay by two hops); 0 relays
   * every batch.
   */
  SEND_RELAY_MIN_RATE: z.coerce.number().min(0).max(1_000_000).default(50),
  /**
   * With SEND_WRITER=relay: a node's batches on their way to the writer at once. 1 makes a send wait for the
   * round trip of the batch before it; the writer's own group commit merges whatever arrives either way.
   */
  SEND_RELAY_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  /** The writer's lease in Redis: a dead writer is replaced within it. */
  SEND_WRITER_LEASE_MS: z.coerce.number().int().min(300).max(60_000).default(3000),
  /** Sends waiting for a batch beyond this are refused with UNAVAILABLE and a retryAfterMs hint. */
  GROUP_COMMIT_MAX_QUEUE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  GROUP_COMMIT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(1),
  /** How often a node that stored messages merges the search index's pending list (0: never, leave it to PostgreSQL). */
  SEARCH_INDEX_MERGE_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  /** Delivered/read cursors arriving within this window are written and broadcast together (per node). */
  RECEIPT_WINDOW_MS: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** A busy socket's `receipts` event waits up to this long for its next message, to leave in the same write (0: never held). */
  RECEIPT_HOLD_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Handshake admission: new connections per second per node and per client address (see docs/thundering-herd.md). */
  ADMISSION_NODE_PER_SECOND: z.coerce.number().positive().default(100),
  ADMISSION_IP_PER_SECOND: z.coerce.number().positive().default(20),
  /** The fixed window those budgets are counted in; a window admits rate x length. */
  ADMISSION_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
  WEB_DIST_DIR: z.string().optional(),
  /**
   * Where uploaded files' bytes go (PROTOCOL.md "Files"): `disk` under FILES_DIR (embedded mode, or nodes
   * sharing one host's disk), or `s3`, any S3-compatible object store (a cluster; Compose runs MinIO).
   */
  FILE_STORE: z.enum(['disk', 's3']).default('disk'),
  FILES_DIR: z.string().optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3_BUCKET must be a valid bucket name').default('chat-files'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
});

export type FileStoreConfig =
  | { kind: 'disk'; dir: string }
  | { kind: 's3'; endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };

export interface Config {
  host: string;
  port: number;
  listenBacklog: number;
  handshakeQueueMaxMs: number;
  nodeId: string;
  /** The host node's id: equal to nodeId, except in a worker (nodeId `<host>-w<i>`); per-node budgets use it. */
  hostNodeId: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  database:
    | { kind: 'pglite'; dataDir?: string }
    | {
        kind: 'postgres';
        primaryUrl: string;
        replicaUrls: string[];
        poolMax: number;
        connectionTimeoutMs: number;
        statementTimeoutMs: number;
        replicaMaxLagSeconds: number;
        replicaProbeIntervalMs: number;
      };
  redisUrl?: string;
  fileStore: FileStoreConfig;
  trustProxy: string[];
  workers: number;
  drainWindowMs: number;
  presenceHeartbeatMs: number;
  socketAdapter: 'sharded' | 'classic';
  jwtSecret: string;
  /** Bearer token of the operator API (/ops/...); undefined = only site admins' access tokens open it. */
  opsToken?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** Origins allowed for HTTP and the Socket.IO handshake, besides the node's own origin. */
  allowedOrigins: string[];
  messagesPerSecond: number;
  httpBudgetMultiplier: number;
  migrateOnStart: boolean;
  socketEventsInFlightMax: number;
  socketsPerUserMax: number;
  socketsPerAddressMax: number;
  slowReaders: { maxQueuedPackets: number; maxBufferedBytes: number; intervalMs: number };
  groupCommit: { maxDelayMs: number; maxBatch: number; minIntervalMs: number; minIntervalFromRate: number; maxQueue: number; maxInFlight: number };
  sendWriter: { mode: 'relay' | 'local'; relayTimeoutMs: number; relayMinRate: number; relayMaxInFlight: number; leaseMs: number };
  receiptWindowMs: number;
  receiptHoldMs: number;
  searchIndexMergeIntervalMs: number;
  admission: { nodePerSecond: number; ipPerSecond: number; windowSeconds: number };
  /** The built web app, served at `/` (embedded mode); undefined to serve nothing. */
  webDistDir?: string;
  /** Argon2id cost; OWASP's minimum by default. */
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  passwordHashing: { concurrency: number; maxWaiting: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const embedded = e.DATABASE_URL === undefined;
  if (!embedded && !e.JWT_SECRET) {
    // Several nodes must share the secret, so a generated one would make tokens node-local.
    throw new ConfigError('invalid configuration:\n  JWT_SECRET: required when DATABASE_URL is set');
  }
  if (e.WORKERS > 1 && (embedded || !e.REDIS_URL)) {
    // Workers are separate processes: they need a shared database and the Redis adapter between them.
    throw new ConfigError('invalid configuration:\n  WORKERS: more than 1 needs DATABASE_URL and REDIS_URL');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  if (e.FILE_STORE === 's3' && (!e.S3_ENDPOINT || !e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('invalid configuration:\n  FILE_STORE: s3 needs S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  }
  const defaultWeb = path.resolve(__dirname, '../../web/dist');
  return {
    host: e.HOST,
    port: e.PORT,
    listenBacklog: e.LISTEN_BACKLOG,
    handshakeQueueMaxMs: e.HANDSHAKE_QUEUE_MAX_MS,
    nodeId: e.NODE_ID ?? `${hostname()}-${process.pid}`,
    hostNodeId: e.NODE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    database: embedded
      ? { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') }
      : {
          kind: 'postgres',
          primaryUrl: e.DATABASE_URL!,
          replicaUrls: e.DATABASE_REPLICA_URLS,
          poolMax: e.DATABASE_POOL_MAX,
          connectionTimeoutMs: e.DATABASE_CONNECTION_TIMEOUT_MS,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          replicaMaxLagSeconds: e.DATABASE_REPLICA_MAX_LAG_SECONDS,
          replicaProbeIntervalMs: e.DATABASE_REPLICA_PROBE_INTERVAL_MS,
        },
    ...(e.REDIS_URL ? { redisUrl: e.REDIS_URL } : {}),
    fileStore:
      e.FILE_STORE === 's3'
        ? { kind: 's3', endpoint: e.S3_ENDPOINT!, region: e.S3_REGION, bucket: e.S3_BUCKET, accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! }
        : { kind: 'disk', dir: path.resolve(e.FILES_DIR ?? path.join(dataDir, 'files')) },
    trustProxy: e.TRUST_PROXY,
    workers: e.WORKERS,
    drainWindowMs: e.DRAIN_WINDOW_MS,
    presenceHeartbeatMs: e.PRESENCE_HEARTBEAT_MS,
    socketAdapter: e.SOCKET_ADAPTER,
    jwtSecret: e.JWT_SECRET ?? embeddedSecret(dataDir),
    ...(e.OPS_TOKEN ? { opsToken: e.OPS_TOKEN } : {}),
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    messagesPerSecond: e.MESSAGES_PER_SECOND,
    httpBudgetMultiplier: e.HTTP_BUDGET_MULTIPLIER,
    migrateOnStart: e.MIGRATE_ON_START,
    socketEventsInFlightMax: e.SOCKET_EVENTS_IN_FLIGHT_MAX,
    socketsPerUserMax: e.SOCKETS_PER_USER_MAX,
    socketsPerAddressMax: e.SOCKETS_PER_ADDRESS_MAX,
    slowReaders: { maxQueuedPackets: e.SOCKET_OUTBOUND_MAX_PACKETS, maxBufferedBytes: e.SOCKET_OUTBOUND_MAX_BYTES, intervalMs: 1000 },
    groupCommit: { maxDelayMs: e.GROUP_COMMIT_MAX_DELAY_MS, maxBatch: e.GROUP_COMMIT_MAX_BATCH, minIntervalMs: e.GROUP_COMMIT_MIN_INTERVAL_MS, minIntervalFromRate: e.GROUP_COMMIT_INTERVAL_MIN_RATE, maxQueue: e.GROUP_COMMIT_MAX_QUEUE, maxInFlight: e.GROUP_COMMIT_MAX_IN_FLIGHT },
    sendWriter: { mode: e.REDIS_URL ? e.SEND_WRITER : 'local', relayTimeoutMs: e.SEND_RELAY_TIMEOUT_MS, relayMinRate: e.SEND_RELAY_MIN_RATE, relayMaxInFlight: e.SEND_RELAY_MAX_IN_FLIGHT, leaseMs: e.SEND_WRITER_LEASE_MS },
    receiptWindowMs: e.RECEIPT_WINDOW_MS,
    receiptHoldMs: e.RECEIPT_HOLD_MS,
    searchIndexMergeIntervalMs: e.SEARCH_INDEX_MERGE_INTERVAL_MS,
    admission: { nodePerSecond: e.ADMISSION_NODE_PER_SECOND, ipPerSecond: e.ADMISSION_IP_PER_SECOND, windowSeconds: e.ADMISSION_WINDOW_SECONDS },
    ...(e.WEB_DIST_DIR ? { webDistDir: path.resolve(e.WEB_DIST_DIR) } : existsSync(defaultWeb) ? { webDistDir: defaultWeb } : {}),
    argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
    passwordHashing: { concurrency: e.PASSWORD_HASH_CONCURRENCY, maxWaiting: e.PASSWORD_HASH_MAX_WAITING },
  };
}

/** Embedded mode keeps a generated secret beside its data, so tokens survive a restart. */
function embeddedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
