import { sql, type DB, type Kysely, type Transaction } from '@chat/db';

export interface BenchMessage {
  id: string;
  roomId: string;
  senderId: string;
  content: string;
}

/**
 * The statements apps/server/src/features/messages/group-commit.ts (`writeBatch`) runs for a batch of
 * fresh messages without replies, replicated here because the writer is not part of @chat/server's public
 * API and a deep import is not allowed. Keep in step with that file: lock the rooms in id order, look for
 * already stored ids, allocate a seq block per room, one multi-row INSERT, move the senders' own cursors.
 * (The reply-target query is skipped there too when no message replies.)
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
  const allocated = await sql<{ id: string; last_seq: number }>`
    update rooms as r set last_seq = r.last_seq + v.k
    from (values ${sql.join([...perRoom].map(([id, k]) => sql`(${id}, ${k}::bigint)`))}) as v(id, k)
    where r.id = v.id
    returning r.id, r.last_seq`.execute(trx);
  const next = new Map<string, number>();
  for (const a of allocated.rows) next.set(a.id, Number(a.last_seq) - perRoom.get(a.id)! + 1);

  const values = messages.map((m) => {
    const seq = next.get(m.roomId)!;
    next.set(m.roomId, seq + 1);
    return { id: m.id, room_id: m.roomId, seq, sender_id: m.senderId, content: m.content, reply_to: null };
  });
  await trx.insertInto('messages').values(values).returning(['id', 'created_at']).execute();

  const own = new Map<string, { roomId: string; userId: string; seq: number }>();
  for (const v of values) own.set(`${v.room_id}\u0000${v.sender_id}`, { roomId: v.room_id, userId: v.sender_id, seq: v.seq });
  await sql`
    update room_members as m
    set delivered_seq = greatest(m.delivered_seq, v.seq), read_seq = greatest(m.read_seq, v.seq)
    from (values ${sql.join([...own.values()].map((c) => sql`(${c.roomId}, ${c.userId}, ${c.seq}::bigint)`))}) as v(room_id, user_id, seq)
    where m.room_id = v.room_id and m.user_id = v.user_id`.execute(trx);
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
