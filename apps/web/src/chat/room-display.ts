import type { Member, Room } from '@chat/protocol';

/** A direct room is named after both usernames; show the other person instead. */
export function roomTitle(room: Room, members: readonly Member[] | undefined, selfId: string, selfUsername: string): string {
  if (room.type !== 'direct') return room.name;
  const other = members?.find((m) => m.userId !== selfId);
  if (other) return other.displayName;
  const names = room.name.split(', ').filter((n) => n !== selfUsername);
  return names[0] ?? room.name;
}

export function otherMember(members: readonly Member[] | undefined, selfId: string): Member | undefined {
  return members?.find((m) => m.userId !== selfId);
}
