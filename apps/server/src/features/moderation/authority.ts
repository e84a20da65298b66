import { ChatError, type Role } from '@chat/protocol';
import type { Membership } from '../../membership/membership';

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/**
 * The caller's role when they may moderate the room. A member is FORBIDDEN; a non-member gets the room's
 * access error (NOT_FOUND for a room they cannot see, FORBIDDEN for a public one).
 */
export async function requireModerator(membership: Membership, userId: string, roomId: string): Promise<Role> {
  const role = await membership.requireMember(userId, roomId);
  if (role === 'member') throw new ChatError('FORBIDDEN', 'only the room owner or an admin can do this');
  return role;
}

/**
 * One rule for kick, ban and timeout: the actor must strictly outrank the target. So the owner acts on admins
 * and members, an admin only on members, and nobody on themselves or on the owner.
 */
export function assertOutranks(actor: Role, target: Role): void {
  if (RANK[actor] <= RANK[target]) throw new ChatError('FORBIDDEN', `a room ${actor} cannot do this to a room ${target}`);
}
