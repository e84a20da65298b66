import { HTTP_ROUTES, routePath, type User } from '@chat/protocol';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  created_at: Date;
  /** Absent where the query did not select it (the user is then shown without a picture). */
  avatar_id?: string | null;
}

/** Where a user's picture is served (no token: the id is unguessable and new for every picture). */
export function avatarUrl(avatarId: string): string {
  return routePath(HTTP_ROUTES.avatar, { avatarId });
}

export function toUser(row: UserRow): User {
  const user: User = { id: row.id, username: row.username, displayName: row.display_name, createdAt: row.created_at.toISOString() };
  if (row.avatar_id) user.avatarUrl = avatarUrl(row.avatar_id);
  return user;
}
