import type { IncomingMessage } from 'node:http';
import { createDatabase, type Database } from '@chat/db';
import { CLIENT_EVENT_TABLE, ChatError, LIMITS } from '@chat/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { Config } from './config';
import { admissionFeature } from './features/admission/plugin';
import { authFeature } from './features/auth/plugin';
import { messagesFeature } from './features/messages/plugin';
import { moderationFeature } from './features/moderation/plugin';
import { opsFeature } from './features/ops/plugin';
import { presenceFeature } from './features/presence/plugin';
import { roomsFeature } from './features/rooms/plugin';
import { typingFeature } from './features/typing/plugin';
import { webFeature } from './features/web/plugin';
import { ReadYourWrites } from './db/read-your-writes';
import { clientAddressResolver } from './http/client-address';
import { installErrorHandlers } from './http/error-handler';
import { isOriginAllowed } from './http/origin-policy';
import { MemoryPresenceStore, type PresenceStore } from './infra/presence-store';
import { memoryRateLimiters, redisRateLimiters, type RateLimiterFactory } from './infra/rate-limiter';
import { createMetrics, type Metrics } from './metrics';
import { RedisPresenceStore } from './infra/redis-presence-store';
import { attachRedisAdapter } from './socket/adapter';
import { SocketEvents, connectError } from './socket/socket-events';
import type { ChatServer } from './socket/types';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database;
    /** Read routing per user: replicas, except where the user's own writes may not have arrived yet. */
    reads: ReadYourWrites;
    io: ChatServer;
    socketEvents: SocketEvents;
    presence: PresenceStore;
    rateLimiters: RateLimiterFactory;
    metrics: Metrics;
    redis: Redis | undefined;
    /** The client's address for a raw request (a Socket.IO handshake), trusting only TRUST_PROXY hops. */
    clientAddress: (req: IncomingMessage) => string;
  }
}

export interface AppOverrides {
  /** An already open database (tests share one PGlite across apps to restart a node on the same data). */
  database?: Database;
}

/**
 * Builds one backend node: Fastify with Socket.IO attached to its HTTP server, the infrastructure chosen
 * once from configuration, and every feature registered as an encapsulated plugin. Listening, signals and
 * draining belong to main.ts, so tests build the same app and listen on port 0.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      base: { node: config.nodeId },
      // Never log credentials.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
    bodyLimit: LIMITS.httpBodyMaxBytes,
    requestIdHeader: 'x-request-id',
    forceCloseConnections: true,
    // X-Forwarded-For is believed only from the configured proxies (NGINX); see http/client-address.ts.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
  });
  installErrorHandlers(app);

  const ownsDatabase = overrides.database === undefined;
  const db =
    overrides.database ??
    (await createDatabase(
      config.database.kind === 'pglite'
        ? { kind: 'pglite', ...(config.database.dataDir ? { dataDir: config.database.dataDir } : {}), logger: app.log }
        : {
            kind: 'postgres',
            primaryUrl: config.database.primaryUrl,
            replicaUrls: config.database.replicaUrls,
            poolMax: config.database.poolMax,
            connectionTimeoutMs: config.database.connectionTimeoutMs,
            statementTimeoutMs: config.database.statementTimeoutMs,
            replicaMaxLagSeconds: config.database.replicaMaxLagSeconds,
            replicaProbeIntervalMs: config.database.replicaProbeIntervalMs,
            logger: app.log,
          },
    ));
  await db.migrate();

  let redis: Redis | undefined;
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false });
    // Without a listener an unreachable Redis would crash the process; the limiters fall back meanwhile.
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'));
    // Limiters do not wait for a Redis that is not ready (their in-memory insurance answers instead), so
    // give it a moment to connect; a node whose Redis is down still starts, and /readyz says why.
    await Promise.race([redis.ping().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  const metrics = createMetrics(config.nodeId, { replicas: () => db.reads.health() });
  const io: ChatServer = new Server(app.server, {
    path: '/socket.io',
    maxHttpBufferSize: LIMITS.socketPayloadMaxBytes,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    allowRequest: (req, callback) => callback(null, isOriginAllowed(req.headers.origin, req.headers.host, config.allowedOrigins)),
  });
  const reads = new ReadYourWrites(db, {
    onRead: (target) => metrics.dbReads.inc({ target: target.name }),
    onError: (err) => app.log.warn({ err }, 'could not read the primary WAL position'),
    share: (userIds, lsn) => {
      if (redis) io.serverSideEmit('reads:fence', [...userIds], lsn.toString());
    },
  });
  const socketEvents = new SocketEvents(app.log, (event, outcome, socket) => {
    metrics.socketEvents.inc({ event, outcome });
    // A write the sender's next read must see (read-your-writes), as the protocol's event table says.
    if (outcome === 'ok' && CLIENT_EVENT_TABLE[event].writes) reads.noteWrite(socket.data.userId);
  });

  app.decorate('config', config);
  app.decorate('db', db);
  app.decorate('reads', reads);
  if (redis) io.on('reads:fence', (userIds, lsn) => reads.applyFence(userIds, BigInt(lsn)));
  app.decorate('io', io);
  app.decorate('socketEvents', socketEvents);
  let detachAdapter: (() => void) | undefined;
  let presence: PresenceStore = new MemoryPresenceStore();
  if (redis) {
    detachAdapter = attachRedisAdapter(io, redis, config.socketAdapter, app.log);
    const store = new RedisPresenceStore(redis, {
      nodeId: config.nodeId,
      heartbeatMs: config.presenceHeartbeatMs,
      onError: (err) => app.log.warn({ err }, 'presence heartbeat failed'),
    });
    // The liveness key must exist before the first socket is counted; a Redis that is down now is
    // caught up by the next heartbeat.
    await store.heartbeat().catch((err: unknown) => app.log.warn({ err }, 'presence heartbeat failed'));
    presence = store;
  }
  app.decorate('presence', presence);
  app.decorate('rateLimiters', redis ? redisRateLimiters(redis) : memoryRateLimiters);
  app.decorate('metrics', metrics);
  app.decorate('redis', redis);
  app.decorate('clientAddress', clientAddressResolver(config.trustProxy));

  app.addHook('onRequest', async (request) => {
    if (!isOriginAllowed(request.headers.origin, request.headers.host, config.allowedOrigins)) {
      throw new ChatError('FORBIDDEN', 'origin not allowed');
    }
  });

  // A successful write over HTTP: mark it before the answer leaves, so the caller's next read sees it.
  app.addHook('onSend', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400 && request.user) {
      reads.noteWrite(request.user.userId);
    }
  });

  // Registered before the features: onClose hooks run in reverse order, so this one runs last, after
  // each feature has flushed what it holds (the group-commit queue, receipt cursors).
  app.addHook('onClose', async () => {
    await app.presence.close();
    reads.close();
    detachAdapter?.();
    redis?.disconnect();
    if (ownsDatabase) await db.close();
  });

  // Before every feature's handshake step: a refused connection costs no token check or database read.
  await app.register(admissionFeature);
  await app.register(opsFeature);
  await app.register(authFeature);
  await app.register(presenceFeature);
  await app.register(roomsFeature);
  await app.register(moderationFeature);
  await app.register(messagesFeature);
  await app.register(typingFeature);
  await app.register(webFeature);

  io.use((socket, next) => {
    socketEvents.runConnectSteps(socket).then(
      () => next(),
      (err: unknown) => {
        const chatError =
          err instanceof ChatError ? err : (app.log.error({ err }, 'socket connect failed'), new ChatError('UNAVAILABLE', 'try again later'));
        metrics.connections.inc({ outcome: chatError.code });
        next(connectError(chatError));
      },
    );
  });
  io.on('connection', (socket) => {
    metrics.connections.inc({ outcome: 'accepted' });
    metrics.socketsConnected.inc();
    socket.on('disconnect', () => metrics.socketsConnected.dec());
    socketEvents.attach(socket);
  });

  app.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
    io.engine.close();
  });

  await app.ready();
  return app;
}
