import { createDatabase, pendingMigrations, sql, type Database } from '@chat/db';
import { CLIENT_EVENT_TABLE } from '@chat/protocol';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server, type ServerOptions } from 'socket.io';
import type { Config } from '../config';
import { ReadYourWrites } from '../db/read-your-writes';
import { clientAddressResolver, type ClientAddressResolver } from '../http/client-address';
import { createMetrics, type Metrics, type PoolState } from '../metrics';
import { handshakeQueueGuard } from '../socket/handshake-queue';
import { followHandshakes } from '../socket/handshaking-sockets';
import { SocketEvents } from '../socket/socket-events';
import { EventBudgets } from '../socket/event-budgets';
import type { ChatServer } from '../socket/types';
import type { ClusterBus } from './cluster-bus';
import type { FileStore } from './files/file-store';
import { openFileStore } from './files/open-file-store';
import type { NodeRelay } from './relay/node-relay';
import { chooseCrossNode, type ReadinessCheck } from './mode';
import type { PresenceStore } from './presence-store';
import type { RateLimiterFactory } from './rate-limiter';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database;
    /** Read routing per user: replicas, except where the user's own writes may not have arrived yet. */
    reads: ReadYourWrites;
    io: ChatServer;
    socketEvents: SocketEvents;
    /** Node-to-node events (see infra/cluster-bus.ts). */
    bus: ClusterBus;
    presence: PresenceStore;
    relay: NodeRelay;
    rateLimiters: RateLimiterFactory;
    metrics: Metrics;
    /** What `/readyz` checks, in order: the primary database, then the mode's own dependencies. */
    readiness: readonly ReadinessCheck[];
    /** The client's address by the TRUST_PROXY rule (http/client-address.ts), for handshakes and requests. */
    clientAddress: ClientAddressResolver;
    /** Uploaded files' bytes (infra/files): the local disk or an S3-compatible bucket, by config. */
    files: FileStore;
  }
}

export interface InfrastructureOptions {
  config: Config;
  /** An already open database (tests share one PGlite across apps to restart a node on the same data). */
  database?: Database | undefined;
  socketOptions: Partial<ServerOptions>;
}

/**
 * The node's infrastructure, each piece behind a small interface and decorated on the instance: the
 * database (PGlite or PostgreSQL with replicas, by config), read-your-writes routing, Socket.IO on the HTTP
 * server, the socket event registry, metrics, and — chosen once by infra/mode.ts — the cluster bus, the
 * rate-limiter factory and the presence store.
 */
async function infrastructure(app: FastifyInstance, { config, database, socketOptions }: InfrastructureOptions): Promise<void> {
  const ownsDatabase = database === undefined;
  const db = database ?? (await openDatabase(config, app));
  if (config.migrateOnStart) {
    await db.migrate();
  } else {
    // The node's role may not change the schema (Compose: `pnpm migrate` runs first, as the owner).
    const pending = await pendingMigrations(db.primary);
    if (pending.length > 0) {
      if (ownsDatabase) await db.close();
      throw new Error(`the database is behind this node (pending: ${pending.join(', ')}): run \`pnpm migrate\` (the image's migrate command) first`);
    }
  }

  let redisConnections: () => { role: string; up: boolean }[] = () => [];
  const metrics = createMetrics(config.nodeId, {
    replicas: () => db.reads.health(),
    pools: () => poolStates(db),
    redis: () => redisConnections(),
  });
  const files = await openFileStore(config.fileStore, app.log).catch(async (err: unknown) => {
    if (ownsDatabase) await db.close();
    throw err;
  });
  const io: ChatServer = new Server(app.server, withQueueGuard(socketOptions, config, metrics));
  const crossNode = await chooseCrossNode(config, io, app.log);
  followHandshakes(io);
  redisConnections = crossNode.redisConnections;
  const reads = new ReadYourWrites(db, {
    onRead: (target) => metrics.dbReads.inc({ target: target.name }),
    onError: (err) => app.log.warn({ err }, 'could not read the primary WAL position'),
    share: (userIds, lsn) => crossNode.bus.publish('reads:fence', [...userIds], lsn.toString()),
    shareRooms: (roomIds, lsn) => crossNode.bus.publish('reads:room-fence', [...roomIds], lsn.toString()),
  });
  crossNode.bus.subscribe('reads:fence', (userIds, lsn) => reads.applyFence(userIds, BigInt(lsn)));
  crossNode.bus.subscribe('reads:room-fence', (roomIds, lsn) => reads.applyRoomFence(roomIds, BigInt(lsn)));
  const validateStage = metrics.sendStages.labels('validate');
  const budgets = new EventBudgets(crossNode.rateLimiters);
  const socketEvents = new SocketEvents(app.log, (event, outcome, socket, validateSeconds) => {
    metrics.socketEvents.inc({ event, outcome });
    if (event === 'message:send' && outcome === 'ok') validateStage.observe(validateSeconds);
    // A write the sender's next read must see (read-your-writes), as the protocol's event table says.
    if (outcome === 'ok' && CLIENT_EVENT_TABLE[event].writes) reads.noteWrite(socket.data.userId);
  }, (event, socket) => budgets.check(event, socket.data.userId), config.socketEventsInFlightMax);

  app.decorate('config', config);
  app.decorate('db', db);
  app.decorate('reads', reads);
  app.decorate('io', io);
  app.decorate('socketEvents', socketEvents);
  app.decorate('bus', crossNode.bus);
  app.decorate('presence', crossNode.presence);
  app.decorate('relay', crossNode.relay);
  app.decorate('rateLimiters', crossNode.rateLimiters);
  app.decorate('metrics', metrics);
  app.decorate('readiness', [
    { name: 'database', check: () => sql`select 1`.execute(db.primary) },
    ...crossNode.checks,
    ...(files.kind === 's3' ? [{ name: 'file store', check: () => files.check() }] : []),
  ]);
  app.decorate('clientAddress', clientAddressResolver(config.trustProxy));
  app.decorate('files', files);

  // Registered before the features: onClose hooks run in reverse order, so this one runs last, after
  // each feature has flushed what it holds (the group-commit queue, receipt cursors).
  app.addHook('onClose', async () => {
    await crossNode.close();
    await files.close();
    reads.close();
    if (ownsDatabase) await db.close();
  });
  app.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
    io.engine.close();
  });
}

/** pg.Pool's own counters, per pool (none on PGlite). */
function poolStates(db: Database): PoolState[] {
  if (!db.pools) return [];
  const named = [['primary', db.pools.primary] as const, ...db.pools.replicas.map((pool, i) => [`replica-${i}`, pool] as const)];
  return named.map(([pool, p]) => ({ pool, max: p.options.max, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount }));
}

function openDatabase(config: Config, app: FastifyInstance): Promise<Database> {
  const { database } = config;
  return createDatabase(
    database.kind === 'pglite'
      ? { kind: 'pglite', ...(database.dataDir ? { dataDir: database.dataDir } : {}), logger: app.log }
      : {
          kind: 'postgres',
          primaryUrl: database.primaryUrl,
          replicaUrls: database.replicaUrls,
          poolMax: database.poolMax,
          connectionTimeoutMs: database.connectionTimeoutMs,
          statementTimeoutMs: database.statementTimeoutMs,
          replicaMaxLagSeconds: database.replicaMaxLagSeconds,
          replicaProbeIntervalMs: database.replicaProbeIntervalMs,
          logger: app.log,
        },
  );
}

export const infrastructurePlugin = fp(infrastructure, { name: 'infrastructure' });

/** Handshakes that queued too long in front of the node are refused first (socket/handshake-queue.ts). */
function withQueueGuard(options: Partial<ServerOptions>, config: Config, metrics: Metrics): Partial<ServerOptions> {
  const fresh = handshakeQueueGuard({
    maxMs: config.handshakeQueueMaxMs,
    observe: (seconds) => metrics.handshakeQueue.observe(seconds),
    refused: () => metrics.connections.inc({ outcome: 'QUEUED_TOO_LONG' }),
  });
  const next = options.allowRequest;
  return {
    ...options,
    allowRequest: (req, callback) => {
      if (!fresh(req)) callback('handshake queued too long', false);
      else if (next) next(req, callback);
      else callback(null, true);
    },
  };
}
