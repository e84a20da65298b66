/**
 * The ceiling: a bare Socket.IO broadcast node that speaks just enough of protocol v1 for the load driver's
 * SDK clients (`hello`, `message:send` → ack + `message:new`, `sync`, receipts acked), with no auth, no
 * validation, no database and no rate limits. `pnpm bench fanout|ramp` run the same driver against N of these
 * behind the same NGINX (with the sharded Redis adapter when N > 1, as our nodes use), so our figures can be
 * read as a ratio of what Socket.IO itself carries on this machine at the same moment.
 *
 * The one piece of coordination it keeps is the per-room `seq` the SDK orders messages by: a Redis `INCR`
 * per message when several nodes share rooms (in memory on one node). That is the least a gapless,
 * ordered room needs; without it the clients would see gaps and sync.
 *
 * Environment (set by startCluster): PORT, HOST, NODE_ID, REDIS_URL; CEILING_ADAPTER=none|sharded.
 */
import { createServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';

/** What the synthetic population's "token" carries: base64url JSON, trusted as is (the ceiling has no auth). */
export interface CeilingIdentity {
  userId: string;
  roomId: string;
  name: string;
}

export function ceilingToken(identity: CeilingIdentity): string {
  return Buffer.from(JSON.stringify(identity)).toString('base64url');
}

type Ack = (response: object) => void;

function main(): void {
  const port = Number(process.env.PORT ?? 0);
  const host = process.env.HOST ?? '127.0.0.1';
  const nodeId = process.env.NODE_ID ?? `ceiling-${process.pid}`;
  const shared = process.env.CEILING_ADAPTER === 'sharded' && process.env.REDIS_URL !== undefined;

  const http = createServer((req, res) => {
    if (req.url === '/readyz' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ready', node: nodeId }));
      return;
    }
    res.writeHead(404).end();
  });
  const io = new Server(http, { path: '/socket.io', pingInterval: 25_000, pingTimeout: 20_000 });

  let seqs: { next(roomId: string): Promise<number>; current(roomId: string): Promise<number> };
  const closers: (() => void)[] = [];
  if (shared) {
    const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
    const pub = redis.duplicate();
    const sub = redis.duplicate();
    for (const c of [redis, pub, sub]) c.on('error', (err: Error) => console.error(`redis: ${err.message}`));
    io.adapter(createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' }));
    seqs = {
      next: (roomId) => redis.incr(`ceiling:seq:${roomId}`),
      current: async (roomId) => Number((await redis.get(`ceiling:seq:${roomId}`)) ?? 0),
    };
    closers.push(() => redis.disconnect(), () => pub.disconnect(), () => sub.disconnect());
  } else {
    const counters = new Map<string, number>();
    seqs = {
      next: async (roomId) => {
        const seq = (counters.get(roomId) ?? 0) + 1;
        counters.set(roomId, seq);
        return seq;
      },
      current: async (roomId) => counters.get(roomId) ?? 0,
    };
  }

  io.on('connection', (socket: Socket) => {
    let identity: CeilingIdentity;
    try {
      identity = JSON.parse(Buffer.from(String((socket.handshake.auth as { token?: unknown }).token), 'base64url').toString()) as CeilingIdentity;
    } catch {
      socket.disconnect(true);
      return;
    }
    const channel = `room:${identity.roomId}`;
    void socket.join(channel);
    void seqs.current(identity.roomId).then((lastSeq) =>
      socket.emit('hello', { userId: identity.userId, node: nodeId, protocol: 1, rooms: [{ roomId: identity.roomId, lastSeq }] }),
    );

    socket.on('message:send', (payload: { id: string; roomId: string; content: string }, ack: Ack) => {
      void seqs.next(payload.roomId).then((seq) => {
        const message = {
          id: payload.id,
          roomId: payload.roomId,
          seq,
          senderId: identity.userId,
          senderName: identity.name,
          content: payload.content,
          createdAt: new Date().toISOString(),
        };
        io.to(`room:${payload.roomId}`).emit('message:new', message);
        ack({ ok: true, message });
      });
    });
    socket.on('sync', (request: { rooms?: { roomId: string }[] }, ack: Ack) => {
      const rooms = request.rooms ?? [{ roomId: identity.roomId }];
      void Promise.all(rooms.map(async (r) => ({ roomId: r.roomId, messages: [], hasMore: false, lastSeq: await seqs.current(r.roomId) }))).then((results) =>
        ack({ ok: true, rooms: results }),
      );
    });
    for (const event of ['message:delivered', 'message:read', 'typing']) socket.on(event, (_payload: unknown, ack?: Ack) => ack?.({ ok: true }));
    socket.on('presence:get', (_payload: unknown, ack: Ack) => ack({ ok: true, presence: [] }));
  });

  http.listen(port, host, () => console.log(`ceiling node ${nodeId} listening on ${host}:${port} (${shared ? 'sharded Redis adapter' : 'no adapter'})`));
  const stop = () => {
    void io.close();
    for (const close of closers) close();
    setTimeout(() => process.exit(0), 100).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();
