import type { Room } from '@chat/protocol';

export interface RoomRow {
  id: string;
  name: string;
  type: 'public' | 'private' | 'direct';
  topic: string | null;
  created_at: Date;
}

export function toRoom(row: RoomRow): Room {
  const room: Room = { id: row.id, name: row.name, type: row.type, createdAt: row.created_at.toISOString() };
  if (row.topic) room.topic = row.topic;
  return room;
}
