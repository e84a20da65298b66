import type { DB, Kysely, ReadonlyKysely } from '@chat/db';
import type { Member } from '@chat/protocol';
import { expressionBuilder, type Expression } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { avatarUrl } from '../views/user-view';

type Reader = ReadonlyKysely<DB> | Kysely<DB>;

function memberRows(db: Reader, roomId: string) {
  return (
    db
      .selectFrom('room_members')
      .innerJoin('users', 'users.id', 'room_members.user_id')
      // A timeout that has not ended (one row per member and room at most: a new one replaces it).
      .leftJoin('timeouts', (j) =>
        j.onRef('timeouts.room_id', '=', 'room_members.room_id').onRef('timeouts.user_id', '=', 'room_members.user_id').on('timeouts.until', '>', new Date()),
      )
      .select([
        'users.id',
        'users.username',
        'users.display_name',
        'users.avatar_id',
        'room_members.role',
        'room_members.delivered_seq',
        'room_members.read_seq',
        'timeouts.until',
      ])
      .where('room_members.room_id', '=', roomId)
  );
}

type MemberRow = {
  id: string;
  username: string;
  display_name: string;
  avatar_id: string | null;
  role: Member['role'];
  delivered_seq: number;
  read_seq: number;
  until: Date | null;
};

function toMember(row: MemberRow, online: boolean): Member {
  const member: Member = {
    userId: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    online,
    deliveredSeq: row.delivered_seq,
    readSeq: row.read_seq,
  };
  if (row.until) member.timedOutUntil = row.until.toISOString();
  if (row.avatar_id) member.avatarUrl = avatarUrl(row.avatar_id);
  return member;
}

/**
 * The rooms `userId` belongs to now, each with its last seq, as one JSON array column: a socket joins their
 * channels at connect and `hello` lists them. A subquery, so the handshake's session check carries it in
 * the same round trip (features/auth, `Accounts.sessionAtConnect`).
 */
export function currentRoomsOf(userId: Expression<string>) {
  return jsonArrayFrom(
    expressionBuilder<DB, never>()
      .selectFrom('room_members as m')
      .innerJoin('rooms as r', 'r.id', 'm.room_id')
      .select(['m.room_id as roomId', 'r.last_seq as lastSeq'])
      .where('m.user_id', '=', userId)
      .where('m.left_at', 'is', null),
  );
}

/** One member as the wire shows them (their row, current or past). */
export async function memberById(db: Reader, roomId: string, userId: string, online: boolean): Promise<Member> {
  return toMember(await memberRows(db, roomId).where('room_members.user_id', '=', userId).executeTakeFirstOrThrow(), online);
}

/** The room's current members by username, with their online flags from `onlineOf`. */
export async function currentMembers(
  db: Reader,
  roomId: string,
  onlineOf: (userIds: string[]) => Promise<ReadonlyMap<string, boolean>>,
): Promise<Member[]> {
  const rows = await memberRows(db, roomId).where('room_members.left_at', 'is', null).orderBy('users.username').execute();
  const online = await onlineOf(rows.map((r) => r.id));
  return rows.map((r) => toMember(r, online.get(r.id) ?? false));
}
