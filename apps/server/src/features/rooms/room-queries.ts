import type { ReadonlyKysely, DB } from '@chat/db';
import { sql } from '@chat/db';
import type { RoomSummary } from '@chat/protocol';
import { toMessage } from '../../views/message-view';
import { toRoom } from '../../views/room-view';

/**
 * Every room the user belongs to, with cursors, unread count and last message, in one query.
 * `unread` counts messages after the read cursor sent by others; the (room_id, seq) index bounds it.
 */
export async function listRoomSummaries(db: ReadonlyKysely<DB>, userId: string): Promise<RoomSummary[]> {
  const rows = await db
    .selectFrom('room_members as m')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .leftJoin('messages as lm', (join) => join.onRef('lm.room_id', '=', 'r.id').onRef('lm.seq', '=', 'r.last_seq'))
    .leftJoin('users as lu', 'lu.id', 'lm.sender_id')
    .select([
      'r.id',
      'r.name',
      'r.type',
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
