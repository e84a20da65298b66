import type { DB, Kysely, ReadonlyKysely } from '@chat/db';
import { LIMITS, type User } from '@chat/protocol';
import { toUser } from '../../views/user-view';

const USER_COLUMNS = ['id', 'username', 'display_name', 'created_at', 'avatar_id'] as const;

export async function userById(db: Kysely<DB>, userId: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', userId).executeTakeFirst();
  return row && toUser(row);
}

/** Users whose username starts with `query` (case-insensitive, LIKE wildcards escaped), by username. */
export async function searchUsers(db: ReadonlyKysely<DB>, query: string): Promise<User[]> {
  const prefix = query.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await db.selectFrom('users').select(USER_COLUMNS).where('username', 'like', `${prefix}%`).orderBy('username').limit(LIMITS.userSearchMax).execute();
  return rows.map(toUser);
}
