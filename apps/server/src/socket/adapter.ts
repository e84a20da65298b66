import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Namespace } from 'socket.io';
import { parseRoomChannel } from '@chat/protocol';
import { Adapter as InMemoryAdapter, MessageType, type BroadcastOptions } from 'socket.io-adapter';
import { closeRedisGently, observeEveryCommand, writeEachTurnAtOnce } from '../infra/redis-connection';
import { followRemoteRequest } from './handshaking-sockets';
import type { ChatServer } from './types';

export type AdapterKind = 'classic' | 'sharded';

/**
 * Attaches the Socket.IO Redis adapter, so broadcasts, `socketsJoin`/`socketsLeave` and
 * `disconnectSockets` on a room reach the sockets of every node.
 *
 * - `sharded` (default): Redis 7 sharded Pub/Sub with a channel per room ("dynamic" subscriptions): a node
 *   receives a room's broadcasts only while it holds a socket in that room.
 * - `classic`: one channel per namespace: every node receives and decodes every broadcast.
 * The choice and its measurements are in docs/ARCHITECTURE.md ("Cross-node fan-out").
 *
 * Publisher and subscriber are connections of their own (a subscribed connection can do nothing else),
 * each with an `error` listener: without one an unreachable Redis would crash the node. ioredis reconnects
 * and re-subscribes by itself after a Redis restart; broadcasts published meanwhile are lost, which clients
 * repair through `sync` on a seq gap (docs/PROTOCOL.md, Guarantees).
 */
export function attachRedisAdapter(
  io: ChatServer,
  redis: Redis,
  kind: AdapterKind,
  log: FastifyBaseLogger,
  onResume: () => void,
  /** Redis channel names start with it (the adapter's default; tests sharing one Redis give their own). */
  channelPrefix = 'socket.io',
): { detach: () => Promise<void>; connections: { role: string; client: Redis }[] } {
  // The broadcasts of one group commit leave in the same tick: the publisher writes them to Redis in one socket
  // write instead of one each (`writeEachTurnAtOnce`; docs/performance.md, "The adapter's writes" and "Redis
  // commands outlived the young generation"). The subscriber's commands (SSUBSCRIBE, SUNSUBSCRIBE) are few.
  const pub = writeEachTurnAtOnce(redis.duplicate({ enableAutoPipelining: false }));
  const sub = redis.duplicate({ enableAutoPipelining: false });
  for (const [role, client] of [['pub', pub], ['sub', sub]] as const) {
    client.on('error', (err: Error) => log.warn({ err: err.message, role }, 'redis adapter connection error'));
    // SUNSUBSCRIBE, SSUBSCRIBE again after a reconnect and broadcasts' SPUBLISH are not awaited by the adapter.
    observeEveryCommand(client, (err) => log.debug({ err: err.message, role }, 'redis adapter command failed'));
  }
  // The subscriber is ready again after a lost connection (ioredis re-subscribes first): what was
  // published while it was away is lost for this node (ClusterBus.onResume).
  let wasReady = false;
  let lost = false;
  sub.on('ready', () => {
    if (wasReady && lost) {
      log.warn('redis adapter subscriber is back: resynchronising what the cluster bus keeps in step');
      onResume();
    }
    wasReady = true;
    lost = false;
  });
  sub.on('close', () => {
    if (wasReady) lost = true;
  });
  const publishFailed = (err: Error) => log.debug({ err: err.message }, 'redis adapter broadcast not published');
  io.adapter(
    kind === 'sharded'
      ? withoutOwnEcho(localBroadcastFirst(channelsForChatRoomsOnly(createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic', channelPrefix })), publishFailed))
      : createAdapter(pub, sub, { key: channelPrefix }),
  );
  if (kind === 'classic') {
    // The classic adapter applies other nodes' socketsJoin/Leave and disconnectSockets from its request channel,
    // to connected sockets only: the same requests are made to sockets in their handshake (socket/handshaking-sockets.ts).
    const requests = `${channelPrefix}-request#/#`;
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString().startsWith(requests)) followRemoteRequest(io, message);
    });
  }
  return {
    // Gently: the adapter fires SUNSUBSCRIBE for every room its departing sockets leave and never awaits it,
    // so a hard disconnect here would reject those in flight as unhandled "Connection is closed" errors.
    detach: async () => {
      await Promise.all([pub, sub].map((client) => closeRedisGently(client)));
    },
    connections: [
      { role: 'adapter-pub', client: pub },
      { role: 'adapter-sub', client: sub },
    ],
  };
}

/** What the wrappers below touch of the sharded adapter (private in its types). */
interface ShardedAdapterInternals {
  uid: string;
  onRawMessage(raw: Buffer, channel: Buffer): void;
  broadcast(packet: unknown, opts: BroadcastOptions): unknown;
  publishAndReturnOffset(message: { type: MessageType; data: unknown }): Promise<unknown>;
}

/** What the wrapper below replaces of the sharded adapter's channel choice (private in its types). */
interface ChannelChoiceInternals {
  /** The namespace's channel, which every node subscribes to. */
  channel: string;
  shouldUseASeparateNamespace(room: string): boolean;
  computeChannel(message: { data?: { opts?: { rooms?: readonly string[] } } }): string;
}

/**
 * In "dynamic" mode the sharded adapter gives every Socket.IO room a channel of its own, subscribed while the
 * node holds a socket in it: the user's and the session's channel too, which every socket joins at its
 * handshake. That was an SSUBSCRIBE per handshake (the session's, unique to it) and per user new to the node,
 * and an SUNSUBSCRIBE each at disconnect, on the subscriber connection every broadcast arrives on, for
 * channels that carry a few events per membership change or sign-out (`room:joined`, `room:left`; the
 * cross-node `socketsJoin` and `disconnectSockets` use the namespace's channel anyway). Only chat rooms keep
 * channels of their own; a broadcast to one user or session goes on the namespace's channel, which every node
 * receives and, holding no socket of that user, drops (docs/performance.md, "Channels for chat rooms only").
 * An adapter that is not the expected shape after an upgrade is left as it is.
 */
function channelsForChatRoomsOnly<A extends object>(create: (nsp: Namespace) => A): (nsp: Namespace) => A {
  return function adapterWithChannelsForChatRoomsOnly(nsp) {
    const created = create(nsp);
    const adapter = created as unknown as ChannelChoiceInternals;
    if (typeof adapter.channel !== 'string' || typeof adapter.shouldUseASeparateNamespace !== 'function' || typeof adapter.computeChannel !== 'function') {
      return created;
    }
    const separate = adapter.shouldUseASeparateNamespace.bind(adapter);
    const compute = adapter.computeChannel.bind(adapter);
    adapter.shouldUseASeparateNamespace = (room) => parseRoomChannel(room) !== undefined && separate(room);
    adapter.computeChannel = (message) => {
      const rooms = message.data?.opts?.rooms;
      return rooms?.length === 1 && parseRoomChannel(rooms[0]!) === undefined ? adapter.channel : compute(message);
    };
    return created;
  };
}

/**
 * The cluster adapter's `broadcast` publishes to Redis, awaits Redis's answer, and only then writes the
 * node's own sockets: every local delivery waited one Redis round trip and a later turn of the event loop
 * (at light load ~0.7 ms of a one-node delivery's 4: docs/performance.md, "Local sockets first"). The answer
 * it awaits is an offset for connection-state recovery, which the sharded adapter never has (always "") and
 * this server does not use. So here the broadcast is published first (encoded in the same call, as before), and the
 * node's own sockets are written at once, without waiting for Redis. Order is kept: local broadcasts happen
 * in the order they are made, and Redis still receives the publications in that order. A publication that
 * fails is logged; the local sockets got the broadcast either way, as before. With connection-state
 * recovery on (offsets matter), or an adapter that is not the expected shape after an upgrade, the
 * adapter's own path is kept; the test is `adapter.own-echo.test.ts` ("local sockets first").
 */
function localBroadcastFirst<A extends object>(create: (nsp: Namespace) => A, onError: (err: Error) => void): (nsp: Namespace) => A {
  return function adapterWithLocalBroadcastFirst(nsp) {
    const created = create(nsp);
    const adapter = created as unknown as ShardedAdapterInternals;
    const recovery = (nsp.server as unknown as { opts: { connectionStateRecovery?: unknown } }).opts.connectionStateRecovery;
    if (recovery || !(created instanceof InMemoryAdapter) || typeof adapter.publishAndReturnOffset !== 'function') return created;
    const localBroadcast = InMemoryAdapter.prototype.broadcast;
    adapter.broadcast = (packet, opts) => {
      if (!opts.flags?.local) {
        // The same message the cluster adapter publishes (`ClusterAdapter.broadcast`, `encodeOptions`).
        const data = { packet, opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags } };
        adapter.publishAndReturnOffset({ type: MessageType.BROADCAST, data }).catch(onError);
      }
      localBroadcast.call(created as unknown as InMemoryAdapter, packet as never, opts);
    };
    return created;
  };
}

/**
 * The sharded adapter subscribes a node to the channel of every room its sockets are in, so every broadcast a
 * node publishes comes back to it (the sender is in the room), and the adapter decodes each one in full only
 * to drop it by its `uid`: on one node that is every broadcast, on four nodes a quarter of the decoding. A
 * broadcast without binary data is JSON whose last two keys are the publisher's `uid` and `nsp`
 * (`ClusterAdapter.publishAndReturnOffset` sets them after the body), so this node's own is recognised by
 * its last bytes and dropped before decoding. Anything else (binary, another key order after an upgrade)
 * does not match and takes the adapter's own path, which drops it as before; the test is
 * `adapter.own-echo.test.ts`.
 */
function withoutOwnEcho<A extends object>(create: (nsp: Namespace) => A): (nsp: Namespace) => A {
  // A function, not an arrow: Socket.IO calls the factory with `new` (an object returned by a constructor wins).
  return function adapterWithoutOwnEcho(nsp) {
    const created = create(nsp);
    const adapter = created as unknown as ShardedAdapterInternals;
    const ownTail = Buffer.from(`,"uid":${JSON.stringify(adapter.uid)},"nsp":${JSON.stringify(nsp.name)}}`);
    const decode = adapter.onRawMessage.bind(adapter);
    adapter.onRawMessage = (raw, channel) => {
      if (raw.length > ownTail.length && raw[0] === 0x7b && ownTail.equals(raw.subarray(raw.length - ownTail.length))) return;
      decode(raw, channel);
    };
    return created;
  };
}
