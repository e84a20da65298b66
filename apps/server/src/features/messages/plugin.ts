import { ChatError, HTTP_ROUTES, LIMITS, roomChannel, roomIdsOf, type Message, type SyncRoomResult } from '@chat/protocol';
import { asReadonly } from '@chat/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { route } from '../../http/route';
import type { ChatSocket } from '../../socket/types';
import { toMessage } from '../../views/message-view';
import { CursorWriter } from './cursor-writer';
import { GroupCommitWriter } from './group-commit';
import { historyPage, messageById, reactionsOf, searchMessages, syncPages, withReactions } from './message-reads';
import { RoomSeqCache } from './room-seq-cache';

async function messages(app: FastifyInstance): Promise<void> {
  const { db, io, metrics, membership } = app;
  // Reads that must see every acknowledged write use the primary through the read-only type.
  const primaryReads = asReadonly(db.primary);
  const seqs = new RoomSeqCache(db);
  const writer = new GroupCommitWriter(db, app.config.groupCommit, ({ size, seconds }) => {
    metrics.persistBatchSize.observe(size);
    metrics.persistLatency.observe(seconds);
  });
  const cursors = new CursorWriter(db, 5, (receipts) => {
    for (const r of receipts) io.to(roomChannel(r.roomId)).emit('receipt', r);
  });
  const sendLimiter = app.rateLimiters({ keyPrefix: 'send', points: app.config.messagesPerSecond, durationSec: 1 });

  app.addHook('onClose', async () => {
    await writer.close();
    await cursors.close();
  });

  /** O(1) authorization: the socket is in the room channel exactly when its user is a member. */
  async function requireRoom(socket: ChatSocket, roomId: string): Promise<void> {
    if (!socket.rooms.has(roomChannel(roomId))) throw await membership.accessError(roomId);
  }

  /** A message the socket may act on: it exists and is in one of the socket's rooms. */
  async function visibleMessage(socket: ChatSocket, id: string) {
    const row = await messageById(primaryReads, id);
    if (!row || !socket.rooms.has(roomChannel(row.room_id))) throw new ChatError('NOT_FOUND', 'no such message');
    return row;
  }

  app.socketEvents.on('message:send', async (socket, payload) => {
    const started = process.hrtime.bigint();
    metrics.messagesReceived.inc();
    await requireRoom(socket, payload.roomId);
    const userId = socket.data.userId;
    await app.moderation.assertCanSend(payload.roomId, userId);
    const budget = await sendLimiter.consume(userId);
    if (!budget.allowed) {
      // Retries of a stored id do not count toward the limit: answer them even when over budget.
      const stored = await messageById(primaryReads, payload.id);
      if (stored && stored.sender_id === userId && stored.room_id === payload.roomId) return { message: toMessage(stored) };
      throw new ChatError('RATE_LIMITED', 'sending too fast', { retryAfterMs: budget.retryAfterMs });
    }
    const { row, created } = await writer.submit({
      id: payload.id,
      roomId: payload.roomId,
      senderId: userId,
      senderName: socket.data.displayName,
      content: payload.content,
      replyTo: payload.replyTo,
    });
    const message = toMessage(row);
    if (created) {
      seqs.observe(row.room_id, row.seq);
      metrics.messagesPersisted.inc();
      metrics.messagesDelivered.inc();
      io.to(roomChannel(row.room_id)).emit('message:new', message);
    } else {
      await sendLimiter.refund(userId);
    }
    metrics.ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { message };
  });

  app.socketEvents.on('message:edit', async (socket, { id, content }) => {
    const row = await visibleMessage(socket, id);
    if (row.sender_id !== socket.data.userId) throw new ChatError('FORBIDDEN', 'only the sender can edit a message');
    if (row.deleted_at) throw new ChatError('CONFLICT', 'message was deleted');
    const updated = await db.primary
      .updateTable('messages')
      .set({ content, edited_at: new Date() })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returning(['content', 'edited_at'])
      .executeTakeFirst();
    if (!updated) throw new ChatError('CONFLICT', 'message was deleted');
    const [message] = await withReactions(primaryReads, [{ ...row, content: updated.content, edited_at: updated.edited_at }]);
    io.to(roomChannel(row.room_id)).emit('message:updated', message!);
    return { message: message! };
  });

  app.socketEvents.on('message:delete', async (socket, { id }) => {
    const row = await visibleMessage(socket, id);
    if (row.deleted_at) return;
    if (row.sender_id !== socket.data.userId) {
      const role = await membership.requireMember(socket.data.userId, row.room_id);
      if (role === 'member') throw new ChatError('FORBIDDEN', 'only the sender or a room admin can delete a message');
    }
    const deletedAt = new Date();
    const changed = await db.primary.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('messages')
        .set({ deleted_at: deletedAt, content: '' })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      await trx.deleteFrom('reactions').where('message_id', '=', id).execute();
      return res.numUpdatedRows > 0n;
    });
    if (changed) io.to(roomChannel(row.room_id)).emit('message:updated', toMessage({ ...row, deleted_at: deletedAt }));
  });

  async function react(socket: ChatSocket, messageId: string, emoji: string, add: boolean): Promise<void> {
    const row = await visibleMessage(socket, messageId);
    if (row.deleted_at) throw new ChatError('CONFLICT', 'message was deleted');
    const res = add
      ? await db.primary
          .insertInto('reactions')
          .values({ message_id: messageId, user_id: socket.data.userId, emoji })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst()
      : await db.primary
          .deleteFrom('reactions')
          .where('message_id', '=', messageId)
          .where('user_id', '=', socket.data.userId)
          .where('emoji', '=', emoji)
          .executeTakeFirst();
    const changed = 'numInsertedOrUpdatedRows' in res ? (res.numInsertedOrUpdatedRows ?? 0n) > 0n : res.numDeletedRows > 0n;
    if (!changed) return;
    const reactions = (await reactionsOf(primaryReads, [messageId])).get(messageId) ?? [];
    io.to(roomChannel(row.room_id)).emit('reaction:updated', { roomId: row.room_id, messageId, reactions });
  }

  app.socketEvents.on('reaction:add', (socket, { messageId, emoji }) => react(socket, messageId, emoji, true));
  app.socketEvents.on('reaction:remove', (socket, { messageId, emoji }) => react(socket, messageId, emoji, false));

  app.socketEvents.on('sync', async (socket, request) => {
    const userId = socket.data.userId;
    const limit = request.limit ?? LIMITS.syncDefaultLimit;
    const requested = request.rooms ?? roomIdsOf(socket.rooms).map((roomId) => ({ roomId, afterSeq: undefined }));
    // Naming any room the caller does not belong to fails the whole call.
    for (const r of requested) await requireRoom(socket, r.roomId);
    if (requested.length === 0) return { rooms: [] };

    const roomIds = [...new Set(requested.map((r) => r.roomId))];
    const state = await db.primary
      .selectFrom('room_members as m')
      .innerJoin('rooms as r', 'r.id', 'm.room_id')
      .select(['m.room_id', 'm.delivered_seq', 'r.last_seq'])
      .where('m.user_id', '=', userId)
      .where('m.room_id', 'in', roomIds)
      .execute();
    const byRoom = new Map(state.map((s) => [s.room_id, s]));
    const cursorsToRead = roomIds.map((roomId) => {
      const asked = requested.find((r) => r.roomId === roomId)?.afterSeq;
      return { roomId, afterSeq: asked ?? byRoom.get(roomId)?.delivered_seq ?? 0 };
    });
    // Sync reads the primary: it is the recovery path and must see everything acknowledged.
    const pages = await syncPages(db.primary, cursorsToRead, limit);
    const allRows = [...pages.values()].flatMap((p) => p.rows);
    const reactions = await reactionsOf(
      primaryReads,
      allRows.filter((r) => !r.deleted_at).map((r) => r.id),
    );
    const rooms: SyncRoomResult[] = cursorsToRead.map(({ roomId }) => {
      const page = pages.get(roomId)!;
      const lastSeq = byRoom.get(roomId)?.last_seq ?? 0;
      seqs.observe(roomId, lastSeq);
      return {
        roomId,
        messages: page.rows.map((r): Message => toMessage(r, reactions.get(r.id))),
        hasMore: page.hasMore,
        lastSeq,
      };
    });
    return { rooms };
  });

  async function moveCursor(socket: ChatSocket, roomId: string, seq: number, kind: 'delivered' | 'read'): Promise<void> {
    await requireRoom(socket, roomId);
    if (!(await seqs.covers(roomId, seq))) throw new ChatError('VALIDATION', 'seq is beyond the last message of the room');
    if (seq === 0) return;
    await cursors.update(roomId, socket.data.userId, kind, seq);
  }

  app.socketEvents.on('message:delivered', (socket, { roomId, seq }) => moveCursor(socket, roomId, seq, 'delivered'));
  app.socketEvents.on('message:read', (socket, { roomId, seq }) => moveCursor(socket, roomId, seq, 'read'));

  route(app, HTTP_ROUTES.history, async ({ params: { roomId }, query }, request) => {
    await membership.requireMember(request.user.userId, roomId);
    // Read-your-writes: if the replica has not yet replayed what this node acknowledged, read the primary.
    // Read-your-writes: the user's own acknowledged writes (by WAL position), and every message this node
    // has acknowledged in the room (by seq), must be visible; a replica that is behind either is passed over.
    const routed = app.reads.reader(request.user.userId);
    const known = seqs.peek(roomId);
    let reader = routed;
    if (known > 0 && routed !== primaryReads) {
      const replicaSeq = await routed.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst();
      if ((replicaSeq?.last_seq ?? 0) < known) reader = primaryReads;
    }
    return historyPage(reader, roomId, query);
  });

  route(app, HTTP_ROUTES.search, async ({ query: { q, roomId } }, request) => {
    if (roomId !== undefined) await membership.requireMember(request.user.userId, roomId);
    return { results: await searchMessages(app.reads.reader(request.user.userId), request.user.userId, q, roomId) };
  });
}

export const messagesFeature = fp(messages, { name: 'messages', dependencies: ['rooms', 'moderation'] });
