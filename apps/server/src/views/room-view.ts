import type { Room } from '@chat/protocol';

export interface RoomRow {
  id: string;
  name: string;
  type: 'public' | 'private' | 'direct';
  created_at: Date;
}

export function toRoom(row: RoomRow): Room {
  return { id: row.id, name: row.name, type: row.type, createdAt: row.created_at.toISOString() };
}
