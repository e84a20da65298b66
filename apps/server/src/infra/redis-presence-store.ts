import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PresenceState, PresenceStore } from './presence-store';

/**
 * Presence shared by every node through Redis, with per-node heartbeats.
 *
 * Keys (prefix `presence:`):
 * - `user:<userId>`: hash, one field `<nodeId>|<socketId>` per connected socket;
 * - `node:<nodeId>`: the node's liveness key, refreshed every heartbeat, expiring after 3 missed beats;
 * - `nodeusers:<nodeId>`: set of users with a socket on that node (to clean up after a dead node);
 * - `nodes`: set of nodes that have registered sockets;
 * - `lastseen:<userId>`: epoch ms of the moment the user went offline.
 *
 * A user is online while any of their sockets belongs to a live node, so a node that dies without a word
 * takes its users offline when its liveness key expires (3 beats, 30 s by default), even before anyone
 * sweeps; `sweep()` (run by every node each beat) then removes the dead node's entries — one node wins
 * each dead node (SREM answers 1 once) — and reports which users that took offline.
 *
 * Entries are keyed by the node's *life*, `<nodeId>~<random>`, not by its id: a node SIGKILLed and started
 * again under the same id (compose restarts a container with its hostname; the test kit keeps NODE_ID)
 * would otherwise keep its previous life's sockets alive with its new heartbeat — users who never came
 * back shown online for good, and counted against the cap on sockets per user. Now the previous life is
 * a dead node like any other: its key expires, a sweep takes its users who did not come back offline, and
 * users who reconnected within the expiry never flicker offline for their rooms.
 *
 * If Redis loses everything (restart without persistence), the next heartbeat finds the node's liveness
 * key missing and writes all of this node's sockets again, so presence heals by itself.
 *
 * Single-instance Redis: the scripts touch several keys (a Redis Cluster would need hash tags).
 */

const ADD = `
local nodePrefix = ARGV[4]
local wasOnline = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local node = string.match(f, '^(.*)|')
  if node and redis.call('EXISTS', nodePrefix .. node) == 1 then wasOnline = 1 break end
end
redis.call('HSET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], '1')
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return wasOnline`;

const REMOVE = `
local nodePrefix = ARGV[4]
if redis.call('HDEL', KEYS[1], ARGV[1] .. '|' .. ARGV[2]) == 0 then return -1 end
local online = 0
local mine = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local node = string.match(f, '^(.*)|')
  if node == ARGV[1] then mine = 1 end
  if node and redis.call('EXISTS', nodePrefix .. node) == 1 then online = 1 end
end
if mine == 0 then redis.call('SREM', KEYS[2], ARGV[3]) end
if online == 0 then redis.call('SET', KEYS[3], ARGV[5]) end
return online`;

const GET = `
local nodePrefix = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  local online = 0
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local node = string.match(f, '^(.*)|')
    if node and redis.call('EXISTS', nodePrefix .. node) == 1 then online = 1 break end
  end
  out[i] = online
end
return out`;

const COUNT = `
local nodePrefix = ARGV[1]
local n = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local node = string.match(f, '^(.*)|')
  if node and redis.call('EXISTS', nodePrefix .. node) == 1 then n = n + 1 end
end
return n`;

/** Claims a dead node (one caller wins), deletes its sockets and returns the users left with no live socket. */
const SWEEP_NODE = `
local dead = ARGV[1]
local nodePrefix = ARGV[2]
local userPrefix = ARGV[3]
local seenPrefix = ARGV[4]
if redis.call('EXISTS', nodePrefix .. dead) == 1 then return {} end
if redis.call('SREM', KEYS[1], dead) == 0 then return {} end
local offline = {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = userPrefix .. user
  local online = 0
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local node = string.match(f, '^(.*)|')
    if node == dead then redis.call('HDEL', key, f)
    elseif node and redis.call('EXISTS', nodePrefix .. node) == 1 then online = 1 end
  end
  if online == 0 then
    redis.call('SET', seenPrefix .. user, ARGV[5])
    table.insert(offline, user)
  end
end
redis.call('DEL', KEYS[2])
return offline`;

const SCRIPTS = { presenceAdd: ADD, presenceRemove: REMOVE, presenceGet: GET, presenceCount: COUNT, presenceSweepNode: SWEEP_NODE };

/** A script run as an ioredis command: the number of keys first, then keys and arguments. */
type ScriptCommand = (numberOfKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/**
 * The scripts as ioredis commands (`defineCommand`): EVALSHA with the script's digest, the script itself sent
 * again only when Redis answers NOSCRIPT (after a restart). `eval` sent each script's text on every call:
 * two of them on every handshake (the cap's count, then the add) and one at every disconnect.
 */
function withScripts(redis: Redis): Record<keyof typeof SCRIPTS, ScriptCommand> {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
  return redis as unknown as Record<keyof typeof SCRIPTS, ScriptCommand>;
}

export interface RedisPresenceOptions {
  nodeId: string;
  heartbeatMs: number;
  /** Key prefix; default `presence:` (tests use their own). */
  prefix?: string;
  onError?: (err: unknown) => void;
}

export class RedisPresenceStore implements PresenceStore {
  /** This node's own sockets, to write back after Redis lost them. */
  private readonly local = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly ttlMs: number;
  private readonly p: string;
  /** This process's life of the node (see above). */
  private readonly life: string;
  private readonly scripts: Record<keyof typeof SCRIPTS, ScriptCommand>;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisPresenceOptions,
  ) {
    this.ttlMs = options.heartbeatMs * 3;
    this.p = options.prefix ?? 'presence:';
    this.life = `${options.nodeId}~${randomBytes(6).toString('base64url')}`;
    this.scripts = withScripts(redis);
    this.timer = setInterval(() => void this.heartbeat().catch((err: unknown) => options.onError?.(err)), options.heartbeatMs);
    this.timer.unref();
  }

  /** Writes the liveness key now (and this node's sockets, if Redis lost them). */
  async heartbeat(): Promise<void> {
    const existed = await this.redis.set(this.nodeKey(this.life), '1', 'PX', this.ttlMs, 'GET');
    if (existed !== null || this.local.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [socketId, userId] of this.local) {
      pipeline.hset(`${this.p}user:${userId}`, `${this.life}|${socketId}`, '1');
      pipeline.sadd(`${this.p}nodeusers:${this.life}`, userId);
    }
    pipeline.sadd(`${this.p}nodes`, this.life);
    await pipeline.exec();
  }

  async add(userId: string, socketId: string): Promise<boolean> {
    this.local.set(socketId, userId);
    const wasOnline = (await this.scripts.presenceAdd(
      3,
      `${this.p}user:${userId}`,
      `${this.p}nodeusers:${this.life}`,
      `${this.p}nodes`,
      this.life,
      socketId,
      userId,
      `${this.p}node:`,
    )) as number;
    return wasOnline === 0;
  }

  async remove(userId: string, socketId: string): Promise<{ wentOffline: boolean; lastSeen: Date }> {
    this.local.delete(socketId);
    const now = new Date();
    const online = (await this.scripts.presenceRemove(
      3,
      `${this.p}user:${userId}`,
      `${this.p}nodeusers:${this.life}`,
      `${this.p}lastseen:${userId}`,
      this.life,
      socketId,
      userId,
      `${this.p}node:`,
      String(now.getTime()),
    )) as number;
    return { wentOffline: online === 0, lastSeen: now };
  }

  async get(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    if (userIds.length === 0) return out;
    const [online, seen] = await Promise.all([
      this.scripts.presenceGet(userIds.length, ...userIds.map((u) => `${this.p}user:${u}`), `${this.p}node:`) as Promise<number[]>,
      this.redis.mget(userIds.map((u) => `${this.p}lastseen:${u}`)),
    ]);
    userIds.forEach((id, i) => {
      const isOnline = online[i] === 1;
      const lastSeen = seen[i];
      out.set(id, isOnline || !lastSeen ? { online: isOnline } : { online: false, lastSeen: new Date(Number(lastSeen)) });
    });
    return out;
  }

  async socketCount(userId: string): Promise<number> {
    return (await this.scripts.presenceCount(1, `${this.p}user:${userId}`, `${this.p}node:`)) as number;
  }

  /** Cleans up after nodes whose liveness key expired; returns the users that left offline. */
  async sweep(): Promise<string[]> {
    const nodes = await this.redis.smembers(`${this.p}nodes`);
    const offline: string[] = [];
    for (const node of nodes) {
      if (node === this.life) continue;
      const users = (await this.scripts.presenceSweepNode(
        2,
        `${this.p}nodes`,
        `${this.p}nodeusers:${node}`,
        node,
        `${this.p}node:`,
        `${this.p}user:`,
        `${this.p}lastseen:`,
        String(Date.now()),
      )) as string[];
      offline.push(...users);
    }
    return offline;
  }

  /** Stops the heartbeat and removes this node's sockets (a clean shutdown takes its users offline now). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const sockets = [...this.local];
    this.local.clear();
    try {
      for (const [socketId, userId] of sockets) await this.remove(userId, socketId);
      await this.redis.del(this.nodeKey(this.life));
    } catch (err) {
      // Redis down at shutdown: the liveness key expires by itself and a sweep cleans up after it.
      this.options.onError?.(err);
    }
  }

  private nodeKey(nodeId: string): string {
    return `${this.p}node:${nodeId}`;
  }
}
