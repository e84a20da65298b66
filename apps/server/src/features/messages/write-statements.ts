import { sql, type DB, type Transaction } from '@chat/db';

/** The set-based statements of the group-commit write path (group-commit.ts `writeBatch`). */

/**
 * Allocates a contiguous block of `count` seqs per room (`UPDATE rooms … RETURNING`, one statement) and
 * returns the first seq of each block. The rooms must already be locked by the caller, in id order.
 */
export async function allocateSeqBlocks(trx: Transaction<DB>, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const allocated = await sql<{ id: string; last_seq: number }>`
    update rooms as r set last_seq = r.last_seq + v.k
    from (values ${sql.join([...counts].map(([id, k]) => sql`(${id}, ${k}::bigint)`))}) as v(id, k)
    where r.id = v.id
    returning r.id, r.last_seq`.execute(trx);
  const first = new Map<string, number>();
  for (const a of allocated.rows) first.set(a.id, Number(a.last_seq) - counts.get(a.id)! + 1);
  return first;
}

/** A member's own message moves their delivered and read cursors to it (never back). One statement. */
export async function advanceOwnCursors(trx: Transaction<DB>, rows: readonly { room_id: string; sender_id: string; seq: number }[]): Promise<void> {
  const own = new Map<string, { roomId: string; userId: string; seq: number }>();
  for (const v of rows) own.set(`${v.room_id}\u0000${v.sender_id}`, { roomId: v.room_id, userId: v.sender_id, seq: v.seq });
  await sql`
    update room_members as m
    set delivered_seq = greatest(m.delivered_seq, v.seq), read_seq = greatest(m.read_seq, v.seq)
    from (values ${sql.join([...own.values()].map((c) => sql`(${c.roomId}, ${c.userId}, ${c.seq}::bigint)`))}) as v(room_id, user_id, seq)
    where m.room_id = v.room_id and m.user_id = v.user_id`.execute(trx);
}
