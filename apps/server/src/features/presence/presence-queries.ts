import type { DB, Kysely, ReadonlyKysely } from '@chat/db';

/** Of `userIds`, those who share a room with `viewerId` (presence is visible only to them). */
export async function usersSharingARoom(db: ReadonlyKysely<DB>, viewerId: string, userIds: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('room_members as mine')
    .innerJoin('room_members as theirs', 'theirs.room_id', 'mine.room_id')
    .select('theirs.user_id')
    .distinct()
    .where('mine.user_id', '=', viewerId)
    .where('mine.left_at', 'is', null)
    .where('theirs.left_at', 'is', null)
    .where('theirs.user_id', 'in', userIds)
    .execute();
  return rows.map((r) => r.user_id);
}

/** The rooms each of `userIds` belongs to. */
export async function roomsOfUsers(db: Kysely<DB>, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db.selectFrom('room_members').select(['user_id', 'room_id']).where('user_id', 'in', userIds).where('left_at', 'is', null).execute();
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.room_id]);
  return out;
}
