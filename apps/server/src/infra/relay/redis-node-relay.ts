import type { Redis } from 'ioredis';
import { closeRedisGently, observeEveryCommand } from '../redis-connection';
import { RelayTimeout, type NodeRelay } from './node-relay';

interface RelayRequest {
  kind: 'request';
  id: number;
  from: string;
  payload: unknown;
}
interface RelayAnswer {
  kind: 'answer';
  id: number;
  payload: unknown;
}

/**
 * Take the writer's lease if nobody holds it, renew it if we hold it; answer the holder. One round trip a
 * period per node. Hand-written: no maintained library elects a holder on plain Redis with a lease this
 * small (Redlock is for locks around work, not a standing role, and wants several Redis masters).
 */
const LEASE_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return ARGV[1] end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface RedisNodeRelayOptions {
  nodeId: string;
  /** The writer's lease: renewed every third of it; a dead writer is replaced within it. */
  leaseMs: number;
  keyPrefix?: string;
  /**
   * Whether this node may take the writer's role (default true). A node that commits its own sends
   * (SEND_WRITER=local) only reads who holds it: were it the holder, it would answer no request and every
   * other node's batches would wait out their timeout (a cluster mid-way through a configuration change).
   */
  compete?: boolean;
  onError?: (err: unknown) => void;
}

/**
 * Cluster mode's `NodeRelay`. The writer is whoever holds the `writer` key (SET NX with an expiry, renewed
 * by its holder every third of the lease, read by the others as often). Each node listens on a channel of
 * its own (`relay:<nodeId>`) on a subscriber connection of its own, and publishes requests and answers
 * with the node's command connection. Nothing is queued for a node that is gone: its requests time out.
 */
export class RedisNodeRelay implements NodeRelay {
  readonly nodeId: string;
  private readonly sub: Redis;
  private readonly prefix: string;
  private current: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  private handler: ((payload: unknown) => Promise<unknown>) | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisNodeRelayOptions,
  ) {
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? 'chat:';
    // Until the first lease round answers, commit here: the database keeps every guarantee whoever writes.
    this.current = options.nodeId;
    this.sub = redis.duplicate({ enableAutoPipelining: false });
    this.sub.on('error', (err: Error) => options.onError?.(err));
    // ioredis subscribes again by itself after a reconnect and awaits nothing of it: a failure is heard here.
    observeEveryCommand(this.sub, (err) => options.onError?.(err));
    this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onMessage(message));
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * Subscribes and takes part in the first lease round before resolving, waiting at most 2 s: a node whose
   * Redis is down still starts (it writes its own sends until Redis answers; ioredis subscribes on connect).
   */
  static async open(redis: Redis, options: RedisNodeRelayOptions): Promise<RedisNodeRelay> {
    const relay = new RedisNodeRelay(redis, options);
    const ready = Promise.all([relay.sub.subscribe(relay.channel(options.nodeId)), relay.renew()]).catch((err: unknown) => options.onError?.(err));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    return relay;
  }

  writer(): string {
    return this.current;
  }

  request(nodeId: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new RelayTimeout(nodeId, 0));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RelayTimeout(nodeId, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const message: RelayRequest = { kind: 'request', id, from: this.nodeId, payload };
      this.redis.publish(this.channel(nodeId), JSON.stringify(message)).catch((err: unknown) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  serve(handler: (payload: unknown) => Promise<unknown>): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RelayTimeout(this.nodeId, 0));
      this.pending.delete(id);
    }
    await this.redis.eval(RELEASE_SCRIPT, 1, this.key(), this.nodeId).catch((err: unknown) => this.options.onError?.(err));
    // Gently: a SUBSCRIBE in flight (ioredis's own, after a reconnect) is answered rather than rejected.
    await closeRedisGently(this.sub);
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    try {
      const holder =
        this.options.compete === false
          ? ((await this.redis.get(this.key())) ?? this.nodeId)
          : ((await this.redis.eval(LEASE_SCRIPT, 1, this.key(), this.nodeId, String(this.options.leaseMs))) as string);
      if (!this.closed) this.current = holder;
    } catch (err) {
      // Redis unreachable: write here (the database still serialises every room).
      this.current = this.nodeId;
      this.options.onError?.(err);
    }
  }

  private onMessage(raw: Buffer): void {
    let message: RelayRequest | RelayAnswer;
    try {
      message = JSON.parse(raw.toString('utf8')) as RelayRequest | RelayAnswer;
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    if (message.kind === 'answer') {
      const p = this.pending.get(message.id);
      if (!p) return; // timed out meanwhile
      this.pending.delete(message.id);
      clearTimeout(p.timer);
      p.resolve(message.payload);
      return;
    }
    const handler = this.handler;
    if (!handler || this.closed) return; // unanswered: the caller times out and does the work itself
    void handler(message.payload)
      .catch((err: unknown) => ({ relayError: err instanceof Error ? err.message : String(err) }))
      .then((payload) => {
        const answer: RelayAnswer = { kind: 'answer', id: message.id, payload };
        return this.redis.publish(this.channel(message.from), JSON.stringify(answer));
      })
      .catch((err: unknown) => this.options.onError?.(err));
  }

  private channel(nodeId: string): string {
    return `${this.prefix}relay:${nodeId}`;
  }

  private key(): string {
    return `${this.prefix}writer`;
  }
}
