import type { DB, Kysely, ReadonlyKysely, Transaction } from '@chat/db';
import type { Ban, PendingJoinRequest } from '@chat/protocol';
import type { RoomTimeouts } from './timeout-cache';
import type { RoomRow } from '../../views/room-view';

/** Moderation's own SQL: timeouts, and the reads its routes answer. Membership rows are membership/'s. */

export async function userExists(trx: Transaction<DB>, userId: string): Promise<boolean> {
  return (await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()) !== undefined;
}

/** Pending join requests with the requesters' names, oldest first. */
export async function pendingJoinRequests(db: ReadonlyKysely<DB>, roomId: string): Promise<PendingJoinRequest[]> {
  const rows = await db
    .selectFrom('join_requests as j')
    .innerJoin('users as u', 'u.id', 'j.user_id')
    .select(['j.room_id', 'j.user_id', 'j.status', 'j.created_at', 'u.username', 'u.display_name'])
    .where('j.room_id', '=', roomId)
    .where('j.status', '=', 'pending')
    .orderBy('j.created_at')
    .orderBy('j.user_id')
    .execute();
  return rows.map((r) => ({
    roomId: r.room_id,
    userId: r.user_id,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    username: r.username,
    displayName: r.display_name,
  }));
}

/** The room's bans with the banned users' names, newest first. */
export async function roomBans(db: ReadonlyKysely<DB>, roomId: string): Promise<Ban[]> {
  const rows = await db
    .selectFrom('bans as b')
    .innerJoin('users as u', 'u.id', 'b.user_id')
    .select(['b.room_id', 'b.user_id', 'b.reason', 'b.created_at', 'u.username', 'u.display_name'])
    .where('b.room_id', '=', roomId)
    .orderBy('b.created_at', 'desc')
    .orderBy('b.user_id')
    .limit(500)
    .execute();
  return rows.map((r) => ({
    roomId: r.room_id,
    userId: r.user_id,
    username: r.username,
    displayName: r.display_name,
    ...(r.reason ? { reason: r.reason } : {}),
    createdAt: r.created_at.toISOString(),
  }));
}

/** The timeouts that have not ended in each of these rooms, in one statement (a room without any: absent). */
export async function activeTimeouts(db: Kysely<DB>, roomIds: readonly string[]): Promise<Map<string, RoomTimeouts>> {
  const byRoom = new Map<string, RoomTimeouts>();
  if (roomIds.length === 0) return byRoom;
  const rows = await db
    .selectFrom('timeouts')
    .select(['room_id', 'user_id', 'until'])
    .where('room_id', 'in', roomIds)
    .where('until', '>', new Date())
    .execute();
  for (const r of rows) {
    let room = byRoom.get(r.room_id);
    if (!room) byRoom.set(r.room_id, (room = new Map()));
    room.set(r.user_id, r.until.getTime());
  }
  return byRoom;
}

/** A new timeout replaces the previous one, shorter or longer: that is also how one is lifted early. */
export async function putTimeout(
  trx: Transaction<DB>,
  t: { roomId: string; userId: string; until: Date; reason: string | undefined; by: string },
): Promise<void> {
  const reason = t.reason ?? null;
  await trx
    .insertInto('timeouts')
    .values({ room_id: t.roomId, user_id: t.userId, until: t.until, reason, created_by: t.by })
    .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ until: t.until, reason, created_by: t.by, created_at: new Date() }))
    .execute();
}

const ROOM_ROW = ['id', 'name', 'type', 'topic', 'created_at'] as const;

/** The room row, locked for the rest of the transaction (a rename waits for a send batch holding it, and vice versa). */
export async function roomForUpdate(trx: Transaction<DB>, roomId: string): Promise<RoomRow | undefined> {
  return trx.selectFrom('rooms').select(ROOM_ROW).where('id', '=', roomId).forUpdate().executeTakeFirst();
}

export async function updateRoomRow(trx: Transaction<DB>, roomId: string, set: { name?: string; topic?: string | null }): Promise<RoomRow> {
  return trx.updateTable('rooms').set(set).where('id', '=', roomId).returning(ROOM_ROW).executeTakeFirstOrThrow();
}
