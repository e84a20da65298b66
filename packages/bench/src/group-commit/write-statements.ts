import { sql, type DB, type Kysely, type Transaction } from '@chat/db';
import { advanceOwnCursors, allocateSeqBlocks } from '@chat/server';

export interface BenchMessage {
  id: string;
  roomId: string;
  senderId: string;
  content: string;
}

/**
 * The statements apps/server/src/features/messages/group-commit.ts (`writeBatch`) runs for a batch of
 * fresh messages without replies: lock the rooms in id order, look for already stored ids, allocate a seq
 * block per room and move the senders' own cursors (both through @chat/server's own exported statements),
 * one multi-row INSERT. (The reply-target query is skipped there too when no message replies.)
 */
export async function writeLikeGroupCommit(trx: Transaction<DB>, messages: BenchMessage[]): Promise<void> {
  const roomIds = [...new Set(messages.map((m) => m.roomId))].sort();
  await trx.selectFrom('rooms').select('id').where('id', 'in', roomIds).orderBy('id').forUpdate().execute();
  await trx
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .selectAll('messages')
    .select('users.display_name as sender_name')
    .where('messages.id', 'in', messages.map((m) => m.id))
    .execute();

  const perRoom = new Map<string, number>();
  for (const m of messages) perRoom.set(m.roomId, (perRoom.get(m.roomId) ?? 0) + 1);
  const next = await allocateSeqBlocks(trx, perRoom);

  const values = messages.map((m) => {
    const seq = next.get(m.roomId)!;
    next.set(m.roomId, seq + 1);
    return { id: m.id, room_id: m.roomId, seq, sender_id: m.senderId, content: m.content, reply_to: null };
  });
  await trx.insertInto('messages').values(values).returning(['id', 'created_at']).execute();

  await advanceOwnCursors(trx, values);
}

/**
 * The naive baseline: one autocommit statement per message. The seq still has to come from the room row
 * (gapless per room), so the UPDATE ... RETURNING and the INSERT share the statement's implicit transaction
 * through a CTE: one round trip and one commit (one WAL flush) per message, no idempotency check, no
 * cursor update.
 */
export async function insertBare(db: Kysely<DB>, m: BenchMessage): Promise<void> {
  await sql`
    with s as (update rooms set last_seq = last_seq + 1 where id = ${m.roomId} returning last_seq)
    insert into messages (id, room_id, seq, sender_id, content)
    select ${m.id}::uuid, ${m.roomId}, s.last_seq, ${m.senderId}, ${m.content} from s`.execute(db);
}
