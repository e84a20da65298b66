import type { DB, Kysely, ReadonlyKysely, Transaction } from '@chat/db';
import { compiledQuery, prepared, sql } from '@chat/db';
import type { Room, RoomSummary } from '@chat/protocol';
import { toMessage } from '../../views/message-view';
import { toRoom } from '../../views/room-view';

/** The rooms feature's SQL: room rows and the lists built from them. Membership rows are membership/'s. */

type Reader = ReadonlyKysely<DB> | Kysely<DB>;

const ROOM_COLUMNS = ['id', 'name', 'type', 'topic', 'created_at'] as const;

export async function insertRoom(trx: Transaction<DB>, room: { id: string; name: string; type: 'public' | 'private'; createdBy: string }): Promise<Room> {
  const row = await trx
    .insertInto('rooms')
    .values({ id: room.id, name: room.name, type: room.type, direct_key: null, created_by: room.createdBy })
    .returning(ROOM_COLUMNS)
    .executeTakeFirstOrThrow();
  return toRoom(row);
}

/**
 * The direct room of a pair, unless it exists: the unique `direct_key` (the two sorted user ids) makes
 * concurrent requests converge on one row. Undefined when another request created it.
 */
export async function insertDirectRoom(trx: Transaction<DB>, room: { id: string; name: string; directKey: string; createdBy: string }): Promise<Room | undefined> {
  const row = await trx
    .insertInto('rooms')
    .values({ id: room.id, name: room.name, type: 'direct', direct_key: room.directKey, created_by: room.createdBy })
    .onConflict((oc) => oc.column('direct_key').doNothing())
    .returning(ROOM_COLUMNS)
    .executeTakeFirst();
  return row && toRoom(row);
}

export async function directRoomByKey(db: Reader, directKey: string): Promise<Room> {
  return toRoom(await db.selectFrom('rooms').select(ROOM_COLUMNS).where('direct_key', '=', directKey).executeTakeFirstOrThrow());
}

export async function roomWithSeq(db: Reader, roomId: string): Promise<{ room: Room; lastSeq: number } | undefined> {
  const row = await db.selectFrom('rooms').select([...ROOM_COLUMNS, 'last_seq']).where('id', '=', roomId).executeTakeFirst();
  return row && { room: toRoom(row), lastSeq: row.last_seq };
}

export async function usernameOf(db: Reader, userId: string): Promise<string | undefined> {
  return (await db.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirst())?.username;
}

/** Public rooms whose name contains `query` (LIKE wildcards escaped), busiest first. */
export async function discoverRooms(db: Reader, query: string): Promise<Room[]> {
  const pattern = `%${query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.selectFrom('rooms').select(ROOM_COLUMNS).where('type', '=', 'public').where('name', 'ilike', pattern).orderBy('last_seq', 'desc').limit(50).execute();
  return rows.map(toRoom);
}


/**
 * Every room the user belongs to, with cursors, unread count and last message, in one query.
 * `unread` counts messages after the read cursor sent by others; the (room_id, seq) index bounds it.
 */
export async function listRoomSummaries(db: Reader, userId: string): Promise<RoomSummary[]> {
  const rows = await db
    .selectFrom('room_members as m')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .leftJoin('messages as lm', (join) => join.onRef('lm.room_id', '=', 'r.id').onRef('lm.seq', '=', 'r.last_seq'))
    .leftJoin('users as lu', 'lu.id', 'lm.sender_id')
    .innerJoin('users as me', 'me.id', 'm.user_id')
    .select([
      'r.id',
      'r.name',
      'r.type',
      'r.topic',
      'r.created_at',
      'r.last_seq',
      'm.role',
      'm.read_seq',
      'm.delivered_seq',
      'lm.id as lm_id',
      'lm.seq as lm_seq',
      'lm.sender_id as lm_sender_id',
      'lu.display_name as lm_sender_name',
      'lm.content as lm_content',
      'lm.reply_to as lm_reply_to',
      'lm.created_at as lm_created_at',
      'lm.edited_at as lm_edited_at',
      'lm.deleted_at as lm_deleted_at',
      sql<number>`(select count(*) from messages x where x.room_id = r.id and x.seq > m.read_seq and x.sender_id <> ${userId})`.as(
        'unread',
      ),
      // The unread that name the caller: `@username` not inside a longer word (usernames are [a-z0-9_], so
      // the name needs no escaping in the pattern).
      sql<number>`(select count(*) from messages x where x.room_id = r.id and x.seq > m.read_seq and x.sender_id <> ${userId}
        and x.deleted_at is null and x.content ~* ('(^|[^[:alnum:]_@])@' || me.username || '([^[:alnum:]_]|$)'))`.as('mentions'),
    ])
    .where('m.user_id', '=', userId)
    .where('m.left_at', 'is', null)
    .orderBy('r.last_seq', 'desc')
    .execute();

  return rows.map((r) => {
    const summary: RoomSummary = {
      ...toRoom(r),
      role: r.role,
      lastSeq: r.last_seq,
      readSeq: r.read_seq,
      deliveredSeq: r.delivered_seq,
      unread: Number(r.unread),
      mentions: Number(r.mentions),
    };
    if (r.lm_id && r.lm_seq !== null && r.lm_sender_id && r.lm_content !== null && r.lm_created_at) {
      summary.lastMessage = toMessage({
        id: r.lm_id,
        room_id: r.id,
        seq: r.lm_seq,
        sender_id: r.lm_sender_id,
        sender_name: r.lm_sender_name ?? '',
        content: r.lm_content,
        reply_to: r.lm_reply_to,
        created_at: r.lm_created_at,
        edited_at: r.lm_edited_at,
        deleted_at: r.lm_deleted_at,
      });
    }
    return summary;
  });
}

// Named and compiled once: every connection runs it (hello's last seqs, read after the socket is connected).
const lastSeqsQuery = compiledQuery(1, (db, roomIds: string[]) =>
  db
    .selectFrom('rooms')
    .modifyFront(prepared('chat_rooms_last_seq'))
    .select(['id', 'last_seq'])
    .where(sql<boolean>`id = any(${roomIds}::text[])`),
);

/** Each room's last seq as `db` has it now, in the order asked (0 for a room that is not there). */
export async function lastSeqsOf(db: Kysely<DB>, roomIds: readonly string[]): Promise<number[]> {
  const rows = await lastSeqsQuery(db, [...roomIds]);
  const byId = new Map(rows.map((r) => [r.id, r.last_seq]));
  return roomIds.map((id) => byId.get(id) ?? 0);
}
