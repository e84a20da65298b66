import type { DB, Kysely, ReadonlyKysely } from '@chat/db';
import { sql } from '@chat/db';
import type { Message, ReactionSummary } from '@chat/protocol';
import { toMessage, type MessageRow } from '../../views/message-view';

type Reader = ReadonlyKysely<DB>;

function messagesWithSender(db: Reader) {
  return db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select([
      'messages.id',
      'messages.room_id',
      'messages.seq',
      'messages.sender_id',
      'users.display_name as sender_name',
      'messages.content',
      'messages.reply_to',
      'messages.created_at',
      'messages.edited_at',
      'messages.deleted_at',
    ]);
}

export async function reactionsOf(db: Reader, messageIds: readonly string[]): Promise<Map<string, ReactionSummary[]>> {
  const out = new Map<string, ReactionSummary[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom('reactions')
    .select(['message_id', 'emoji', 'user_id'])
    .where('message_id', 'in', messageIds)
    .orderBy('created_at')
    .orderBy('user_id')
    .execute();
  for (const r of rows) {
    let list = out.get(r.message_id);
    if (!list) out.set(r.message_id, (list = []));
    let entry = list.find((e) => e.emoji === r.emoji);
    if (!entry) list.push((entry = { emoji: r.emoji, count: 0, userIds: [] }));
    entry.count++;
    entry.userIds.push(r.user_id);
  }
  return out;
}

export async function withReactions(db: Reader, rows: MessageRow[]): Promise<Message[]> {
  const reactions = await reactionsOf(
    db,
    rows.filter((r) => !r.deleted_at).map((r) => r.id),
  );
  return rows.map((r) => toMessage(r, reactions.get(r.id)));
}

export async function messageById(db: Reader, id: string): Promise<MessageRow | undefined> {
  return messagesWithSender(db).where('messages.id', '=', id).executeTakeFirst();
}

/**
 * A history page in ascending seq. `before`/`after` are exclusive cursors; with neither, the newest page.
 * `hasMore` says whether more exist in the direction of paging (older for before/newest, newer for after).
 */
export async function historyPage(
  db: Reader,
  roomId: string,
  q: { before?: number | undefined; after?: number | undefined; limit: number },
): Promise<{ messages: Message[]; hasMore: boolean }> {
  let query = messagesWithSender(db).where('messages.room_id', '=', roomId);
  if (q.before !== undefined) query = query.where('messages.seq', '<', q.before);
  if (q.after !== undefined) query = query.where('messages.seq', '>', q.after);
  const ascending = q.after !== undefined;
  const rows = await query
    .orderBy('messages.seq', ascending ? 'asc' : 'desc')
    .limit(q.limit + 1)
    .execute();
  const hasMore = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  if (!ascending) page.reverse();
  return { messages: await withReactions(db, page), hasMore };
}

/**
 * Sync pages for several rooms in one round trip: per room, the messages after its cursor, at most
 * `limit`, via a LATERAL join on the (room_id, seq) index.
 */
export async function syncPages(
  db: Kysely<DB>,
  cursors: readonly { roomId: string; afterSeq: number }[],
  limit: number,
): Promise<Map<string, { rows: MessageRow[]; hasMore: boolean }>> {
  const out = new Map<string, { rows: MessageRow[]; hasMore: boolean }>();
  for (const c of cursors) out.set(c.roomId, { rows: [], hasMore: false });
  if (cursors.length === 0) return out;
  const result = await sql<MessageRow>`
    select m.id, m.room_id, m.seq, m.sender_id, u.display_name as sender_name, m.content, m.reply_to,
           m.created_at, m.edited_at, m.deleted_at
    from (values ${sql.join(cursors.map((c) => sql`(${c.roomId}, ${c.afterSeq}::bigint)`))}) as q(room_id, after_seq)
    cross join lateral (
      select * from messages x where x.room_id = q.room_id and x.seq > q.after_seq order by x.seq limit ${limit + 1}
    ) m
    join users u on u.id = m.sender_id
    order by m.room_id, m.seq`.execute(db);
  for (const row of result.rows) {
    const entry = out.get(row.room_id)!;
    const normalized = { ...row, seq: Number(row.seq) };
    if (entry.rows.length < limit) entry.rows.push(normalized);
    else entry.hasMore = true;
  }
  return out;
}

export async function searchMessages(
  db: Reader,
  userId: string,
  q: string,
  roomId: string | undefined,
): Promise<{ message: Message; highlight: string }[]> {
  let query = db
    .selectFrom('messages')
    .innerJoin('room_members as rm', (j) => j.onRef('rm.room_id', '=', 'messages.room_id').on('rm.user_id', '=', userId).on('rm.left_at', 'is', null))
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select([
      'messages.id',
      'messages.room_id',
      'messages.seq',
      'messages.sender_id',
      'users.display_name as sender_name',
      'messages.content',
      'messages.reply_to',
      'messages.created_at',
      'messages.edited_at',
      'messages.deleted_at',
      sql<string>`ts_headline('simple', messages.content, plainto_tsquery('simple', ${q}), 'StartSel=<<, StopSel=>>, MaxFragments=2')`.as(
        'highlight',
      ),
    ])
    .where(sql<boolean>`to_tsvector('simple', messages.content) @@ plainto_tsquery('simple', ${q})`)
    .where('messages.deleted_at', 'is', null);
  if (roomId !== undefined) query = query.where('messages.room_id', '=', roomId);
  const rows = await query.orderBy('messages.created_at', 'desc').limit(50).execute();
  const messages = await withReactions(db, rows);
  return rows.map((r, i) => ({ message: messages[i]!, highlight: r.highlight }));
}
