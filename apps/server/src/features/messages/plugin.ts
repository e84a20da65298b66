import { ChatError, HTTP_ROUTES, LIMITS, roomChannel, roomIdsOf, type Message } from '@chat/protocol';
import { asReadonly, type DB, type ReadonlyKysely } from '@chat/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import type { ChatSocket } from '../../socket/types';
import { toMessage } from '../../views/message-view';
import { MessageAccess } from './message-access';
import { ReceiptCoalescer } from './receipt-coalescer';
import { ReceiptFanout } from './receipt-fanout';
import { MembershipRefusal } from './membership-refusal';
import { claimAttachments } from './message-attachments';
import { historyPage, roomLastSeq, searchMessages, syncRooms } from './message-reads';
import { deleteMessage, editMessage, setReaction } from './message-writes';
import { RecentBroadcasts } from './recent-broadcasts';
import { RoomSeqCache } from './room-seq-cache';
import { SearchIndexMerger } from './search-index-merger';
import { sendStageClock } from './send-stages';
import { SEND_ROUTES, SendWriter, type SendRoute } from './send-writer';

async function messages(app: FastifyInstance): Promise<void> {
  const { db, io, metrics, membership } = app;
  // Reads that must see every acknowledged write use the primary through the read-only type.
  const primaryReads = asReadonly(db.primary);
  const seqs = new RoomSeqCache();
  // ~100 bytes an id: a few MB remember well over a minute of a busy node's messages, far longer than any
  // client keeps retrying one.
  const broadcast = new RecentBroadcasts(50_000);
  const searchIndex = new SearchIndexMerger(db.primary, {
    intervalMs: app.config.searchIndexMergeIntervalMs,
    onMerged: ({ pages, seconds }) => {
      metrics.searchIndexMerge.observe(seconds);
      metrics.searchIndexMergedPages.inc(pages);
    },
    onError: (err) => app.log.warn({ err }, 'search index merge failed; the next stored message retries it'),
  });
  // Counted per send on the message path: the labelled children are bound once (no label lookup per send).
  const routeCounters = Object.fromEntries(SEND_ROUTES.map((r) => [r, metrics.sendRoutes.labels(r)])) as Record<SendRoute, { inc(n: number): void }>;
  const writer = new SendWriter(db, app.relay, {
    mode: app.config.sendWriter.mode,
    groupCommit: app.config.groupCommit,
    relayTimeoutMs: app.config.sendWriter.relayTimeoutMs,
    relayMinRate: app.config.sendWriter.relayMinRate,
    relayMaxInFlight: app.config.sendWriter.relayMaxInFlight,
    onBatch: ({ size, seconds }) => {
      metrics.persistBatchSize.observe(size);
      metrics.persistLatency.observe(seconds);
      searchIndex.stored();
    },
    onRoute: (route, count) => routeCounters[route].inc(count),
    // History on this node then passes over a replica behind what it committed for other nodes too.
    onRelayedStored: (row, broadcastHere) => {
      seqs.observe(row.room_id, row.seq);
      if (!broadcastHere) return;
      // The writer broadcasts what it committed for another node (send-writer.ts): after this turn's
      // answers, in commit order, as the sender's node would have after its ack.
      broadcast.add(row.id);
      metrics.messagesDelivered.inc();
      process.nextTick(announce, toMessage(row));
    },
  });
  metrics.watchSendQueue({ depth: () => writer.depth, limit: app.config.groupCommit.maxQueue });
  const receipts = new ReceiptFanout({
    windowMs: app.config.receiptWindowMs,
    emitLocal: (roomId, list) => {
      const emit = () => io.local.to(roomChannel(roomId)).emit('receipts', { roomId, receipts: list });
      // Under load most rooms get a message within the hold: the event leaves in its write (ARCHITECTURE.md, Receipts).
      if (app.config.receiptHoldMs > 0) app.socketFlushes.withNextFlush(app.config.receiptHoldMs, emit);
      else emit();
    },
    share: (moved) => app.bus.publish('receipts:moved', moved),
  });
  app.bus.subscribe('receipts:moved', (moved) => receipts.heard(moved));
  const cursors = new ReceiptCoalescer(db.primary, app.config.receiptWindowMs, (moved) => receipts.wrote(moved));
  // Per node: a Redis round trip per send was the largest stage of a send's latency under load (docs/performance.md).
  const sendLimiter = app.rateLimiters({ keyPrefix: 'send', points: app.config.messagesPerSecond, durationSec: 1, scope: 'node' });

  app.addHook('onClose', async () => {
    await writer.close();
    await cursors.close();
    receipts.close();
    await searchIndex.close();
  });

  const access = new MessageAccess(membership, primaryReads);
  const startClock = sendStageClock(metrics);
  /** The committed message to its room: this node's sockets at once, the other nodes' through Redis. */
  const announce = (message: Message, clock?: ReturnType<typeof startClock>) => {
    try {
      io.to(roomChannel(message.roomId)).emit('message:new', message);
    } catch (err) {
      // Committed and acknowledged: members who missed the broadcast get it through sync on the next seq gap.
      app.log.error({ err, roomId: message.roomId, messageId: message.id }, 'message:new broadcast failed');
    }
    clock?.lap('emit');
  };

  app.socketEvents.on('message:send', async (socket, payload) => {
    const started = process.hrtime.bigint();
    const clock = startClock();
    metrics.messagesReceived.inc();
    await access.requireRoom(socket, payload.roomId);
    clock.lap('access');
    const userId = socket.data.userId;
    await app.moderation.assertCanSend(payload.roomId, userId);
    clock.lap('moderation');
    const budget = await sendLimiter.consume(userId);
    clock.lap('rate_limit');
    // Over budget every send is refused, a retry of a stored id too: looking it up would give a flood a
    // database read per event. Within budget a retry is answered from the store and its point refunded.
    if (!budget.allowed) throw new ChatError('RATE_LIMITED', 'sending too fast', { retryAfterMs: budget.retryAfterMs });
    // Files are checked and claimed before the message is queued (uploaded by this sender, to this room,
    // for this id); the batch statement stays the same for messages with and without them.
    const attachments = payload.attachments
      ? await claimAttachments(db.primary, { id: payload.id, roomId: payload.roomId, senderId: userId, fileIds: payload.attachments })
      : undefined;
    const { row, created, announced, timing } = await writer
      .submit({
        id: payload.id,
        roomId: payload.roomId,
        senderId: userId,
        senderName: socket.data.displayName,
        content: payload.content,
        replyTo: payload.replyTo,
        // The writer node knows nothing of the files claimed here: a message with files is broadcast here.
        writerAnnounces: attachments === undefined,
      })
      .catch((err: unknown) => {
        // The socket's room channel said member, the database says not: the broadcast that should have
        // taken the socket out was lost. Take it out now, so it stops receiving the room too.
        if (err instanceof MembershipRefusal) void socket.leave(roomChannel(err.roomId));
        throw err;
      });
    clock.record('queue_wait', timing.queueSeconds);
    clock.record('commit', timing.commitSeconds);
    const message = toMessage(row, undefined, attachments);
    if (created) {
      seqs.observe(row.room_id, row.seq);
      metrics.messagesPersisted.inc();
    } else {
      await sendLimiter.refund(userId);
    }
    // A retry answered from the store is broadcast too unless this node announced the message itself: the
    // commit it retries may never have been (see RecentBroadcasts).
    if (announced) {
      // Broadcast by the writer node that committed it (send-writer.ts); a retry through this node must not
      // broadcast it again.
      broadcast.add(row.id);
    } else if (created || !broadcast.has(row.id)) {
      broadcast.add(row.id);
      metrics.messagesDelivered.inc();
      // After the sender's ack, before the turn ends: the handler returns and the dispatcher writes the ack
      // while the microtask queue drains; the tick queue runs right after it. The node's own sockets are
      // written at once (socket/adapter.ts, localBroadcastFirst), so were the broadcast made here, the ack
      // would wait for every local member's socket write (docs/performance.md, "Local sockets first").
      // `emit` is then the time from the commit's answer to the broadcast written, the ack in between.
      process.nextTick(announce, message, clock);
    }
    metrics.ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { message };
  });

  app.socketEvents.on('message:edit', async (socket, { id, content }) => {
    const { row } = await access.writableMessage(socket, id);
    if (row.sender_id !== socket.data.userId) throw new ChatError('FORBIDDEN', 'only the sender can edit a message');
    // A timeout blocks edits and reactions as it blocks sends (deleting one's own message stays allowed).
    await app.moderation.assertCanSend(row.room_id, socket.data.userId);
    if (row.deleted_at) throw new ChatError('CONFLICT', 'message was deleted');
    const message = await editMessage(db.primary, row, content);
    await app.reads.fenceRooms([row.room_id]);
    io.to(roomChannel(row.room_id)).emit('message:updated', message);
    return { message };
  });

  app.socketEvents.on('message:delete', async (socket, { id }) => {
    const { row, role } = await access.writableMessage(socket, id);
    if (row.deleted_at) return;
    if (row.sender_id !== socket.data.userId && role === 'member') {
      throw new ChatError('FORBIDDEN', 'only the sender or a room admin can delete a message');
    }
    const deletedAt = new Date();
    if (!(await deleteMessage(db.primary, id, deletedAt))) return;
    await app.reads.fenceRooms([row.room_id]);
    io.to(roomChannel(row.room_id)).emit('message:updated', toMessage({ ...row, deleted_at: deletedAt }));
  });

  async function react(socket: ChatSocket, messageId: string, emoji: string, add: boolean): Promise<void> {
    const { row } = await access.writableMessage(socket, messageId);
    if (row.deleted_at) throw new ChatError('CONFLICT', 'message was deleted');
    await app.moderation.assertCanSend(row.room_id, socket.data.userId);
    const reactions = await setReaction(db.primary, { messageId, userId: socket.data.userId, emoji, add });
    if (!reactions) return;
    await app.reads.fenceRooms([row.room_id]);
    io.to(roomChannel(row.room_id)).emit('reaction:updated', { roomId: row.room_id, messageId, reactions });
  }

  app.socketEvents.on('reaction:add', (socket, { messageId, emoji }) => react(socket, messageId, emoji, true));
  app.socketEvents.on('reaction:remove', (socket, { messageId, emoji }) => react(socket, messageId, emoji, false));

  app.socketEvents.on('sync', async (socket, request) => {
    const requested = request.rooms ?? roomIdsOf(socket.rooms).map((roomId) => ({ roomId }));
    // Naming any room the caller does not belong to fails the whole call.
    for (const r of requested) await access.requireRoom(socket, r.roomId);
    if (requested.length === 0) return { rooms: [] };
    const rooms = await syncRooms(db.primary, socket.data.userId, requested, request.limit ?? LIMITS.syncDefaultLimit).catch(async (err: unknown) => {
      if (!(err instanceof MembershipRefusal)) throw err;
      // A stale channel (see MembershipRefusal): out of it, and the room's access error for the whole call.
      void socket.leave(roomChannel(err.roomId));
      throw await membership.accessError(err.roomId);
    });
    for (const r of rooms) seqs.observe(r.roomId, r.lastSeq);
    return { rooms };
  });

  // Validated against the room's last seq by the coalesced write itself (no query per receipt).
  async function moveCursor(socket: ChatSocket, roomId: string, seq: number, kind: 'delivered' | 'read'): Promise<void> {
    await access.requireRoom(socket, roomId);
    if (seq === 0) return;
    await cursors.update(roomId, socket.data.userId, kind, seq);
  }

  app.socketEvents.on('message:delivered', (socket, { roomId, seq }) => moveCursor(socket, roomId, seq, 'delivered'));
  app.socketEvents.on('message:read', (socket, { roomId, seq }) => moveCursor(socket, roomId, seq, 'read'));

  /**
   * Read-your-writes for history: the user's own acknowledged writes (by WAL position, ReadYourWrites), and
   * every message this node has acknowledged in the room (by seq), and every edit, delete or reaction its
   * members were told about (the room's fence), must be visible; a replica that is behind any of them is
   * passed over.
   */
  async function historyReader(userId: string, roomId: string): Promise<ReadonlyKysely<DB>> {
    const routed = app.reads.reader(userId, roomId);
    const known = seqs.peek(roomId);
    if (known > 0 && routed !== primaryReads && (await roomLastSeq(routed, roomId)) < known) return primaryReads;
    return routed;
  }

  route(app, HTTP_ROUTES.history, async ({ params: { roomId }, query }, { user }) => {
    await membership.requireMember(user.userId, roomId);
    return historyPage(await historyReader(user.userId, roomId), roomId, query);
  });

  route(app, HTTP_ROUTES.search, async ({ query: { q, roomId } }, { user }) => {
    if (roomId !== undefined) await membership.requireMember(user.userId, roomId);
    return { results: await searchMessages(app.reads.reader(user.userId, roomId), user.userId, q, roomId) };
  });
}

export const messagesFeature = fp(messages, { name: 'messages', dependencies: ['membership', 'moderation'] });
