import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config';
import { attachRedisAdapter } from '../socket/adapter';
import type { ChatServer } from '../socket/types';
import { AdapterClusterBus } from './adapter-cluster-bus';
import type { ClusterBus } from './cluster-bus';
import { MemoryClusterBus } from './memory-cluster-bus';
import { MemoryPresenceStore, type PresenceStore } from './presence-store';
import { memoryRateLimiters, redisRateLimiters, type RateLimiterFactory } from './rate-limiter';
import { closeRedisGently, NODE_REDIS_OPTIONS, observeEveryCommand, writeEachTurnAtOnce } from './redis-connection';
import { RedisPresenceStore } from './redis-presence-store';
import { LocalNodeRelay, type NodeRelay } from './relay/node-relay';
import { RedisNodeRelay } from './relay/redis-node-relay';

/** A dependency `/readyz` checks; a check that throws or takes over 2 s makes the node unready. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
}

/** Everything that differs between one node on its own and a node among others. */
export interface CrossNode {
  bus: ClusterBus;
  rateLimiters: RateLimiterFactory;
  presence: PresenceStore;
  relay: NodeRelay;
  checks: ReadinessCheck[];
  /** The node's Redis connections and whether each is ready now (none in embedded mode), for `chat_redis_up`. */
  redisConnections(): { role: string; up: boolean }[];
  close(): Promise<void>;
}

/**
 * Nodes share a writer only with nodes on the same database: two clusters on one Redis (or the test suite's
 * files, each with a database of its own) must never commit each other's sends. The namespace is the
 * primary's host, port and database name (not the credentials), hashed.
 */
function databaseNamespace(config: Config): string {
  if (config.database.kind !== 'postgres') return 'embedded';
  const url = new URL(config.database.primaryUrl);
  return createHash('sha256').update(`${url.hostname}:${url.port || '5432'}${url.pathname}`).digest('hex').slice(0, 12);
}

/**
 * The one place where the mode is chosen. Without REDIS_URL the node is alone (embedded mode, or one
 * server): the in-memory adapter, cluster bus, rate limits and presence. With it, the node is one of
 * many: the Socket.IO Redis adapter, the cluster bus over `serverSideEmit`, and Redis budgets and presence.
 * Features use what this returns (as `app.bus`, `app.rateLimiters`, `app.presence`) and never ask which.
 */
export async function chooseCrossNode(config: Config, io: ChatServer, log: FastifyBaseLogger): Promise<CrossNode> {
  if (!config.redisUrl) {
    const bus = new MemoryClusterBus();
    const presence = new MemoryPresenceStore();
    const relay = new LocalNodeRelay(config.nodeId);
    return {
      bus,
      rateLimiters: memoryRateLimiters,
      presence,
      relay,
      checks: [],
      redisConnections: () => [],
      close: async () => {
        await relay.close();
        await presence.close();
        bus.close();
      },
    };
  }

  const redis = new Redis(config.redisUrl, NODE_REDIS_OPTIONS);
  // Without a listener an unreachable Redis would crash the process; the limiters fall back meanwhile.
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  // Callers await their commands (and log what fails); this only keeps one nobody awaits from going unhandled.
  observeEveryCommand(redis, (err) => log.debug({ err: err.message }, 'redis command failed'));
  writeEachTurnAtOnce(redis);
  // Limiters do not wait for a Redis that is not ready (their in-memory insurance answers instead), so
  // give it a moment to connect; a node whose Redis is down still starts, and /readyz says why.
  await Promise.race([redis.ping().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
  const bus = new AdapterClusterBus(io);
  const adapter = attachRedisAdapter(io, redis, config.socketAdapter, log, () => bus.resumed());
  const presence = new RedisPresenceStore(redis, {
    nodeId: config.nodeId,
    heartbeatMs: config.presenceHeartbeatMs,
    onError: (err) => log.warn({ err }, 'presence heartbeat failed'),
  });
  // The liveness key must exist before the first socket is counted; a Redis that is down now is caught up
  // by the next heartbeat.
  await presence.heartbeat().catch((err: unknown) => log.warn({ err }, 'presence heartbeat failed'));
  const relay = await RedisNodeRelay.open(redis, {
    nodeId: config.nodeId,
    leaseMs: config.sendWriter.leaseMs,
    keyPrefix: `chat:${databaseNamespace(config)}:`,
    compete: config.sendWriter.mode === 'relay',
    onError: (err) => log.warn({ err }, 'node relay: redis error'),
  });
  return {
    bus,
    rateLimiters: redisRateLimiters(redis),
    presence,
    relay,
    checks: [{ name: 'redis', check: () => redis.ping() }],
    redisConnections: () =>
      [{ role: 'commands', client: redis }, ...adapter.connections].map(({ role, client }) => ({ role, up: client.status === 'ready' })),
    close: async () => {
      await relay.close();
      await presence.close();
      await adapter.detach();
      await closeRedisGently(redis);
    },
  };
}
