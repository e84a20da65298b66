import type { User } from '@chat/protocol';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  created_at: Date;
}

export function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, displayName: row.display_name, createdAt: row.created_at.toISOString() };
}
