import { randomUUID } from 'node:crypto';
import type { Database } from '@chat/db';
import { ChatError, type JoinRequest, type Room } from '@chat/protocol';
import type { Membership } from '../../membership/membership';
import { directRoomByKey, insertDirectRoom, insertRoom, roomWithSeq, usernameOf } from './room-queries';

export type JoinOutcome = { kind: 'member' | 'joined'; room: Room } | { kind: 'requested'; joinRequest: JoinRequest };

/**
 * What the rooms routes change, each in one transaction: a room row with its founding members, joining
 * and leaving. Membership rows are written through `Membership`; announcing is the caller's.
 */
export class RoomChanges {
  constructor(
    private readonly db: Database,
    private readonly membership: Membership,
  ) {}

  /** A new public or private room, its creator the owner. */
  create(ownerId: string, name: string, type: 'public' | 'private'): Promise<Room> {
    return this.db.primary.transaction().execute(async (trx) => {
      const room = await insertRoom(trx, { id: randomUUID(), name: name.trim(), type, createdBy: ownerId });
      await this.membership.found(trx, room.id, [{ userId: ownerId, role: 'owner' }]);
      return room;
    });
  }

  /** The pair's one direct room, named after both usernames; `created` only for the request that made it. */
  async openDirect(me: { userId: string; username: string }, otherId: string): Promise<{ room: Room; created: boolean }> {
    if (otherId === me.userId) throw new ChatError('VALIDATION', 'cannot open a direct room with yourself');
    const otherName = await usernameOf(this.db.primary, otherId);
    if (otherName === undefined) throw new ChatError('NOT_FOUND', 'no such user');
    const directKey = [me.userId, otherId].sort().join(':');
    const created = await this.db.primary.transaction().execute(async (trx) => {
      const name = [me.username, otherName].sort().join(', ');
      const room = await insertDirectRoom(trx, { id: randomUUID(), name, directKey, createdBy: me.userId });
      if (room) {
        await this.membership.found(trx, room.id, [
          { userId: me.userId, role: 'member' },
          { userId: otherId, role: 'member' },
        ]);
      }
      return room;
    });
    return created ? { room: created, created: true } : { room: await directRoomByKey(this.db.primary, directKey), created: false };
  }

  /** A public room is joined at once; a private one gets a pending join request; a banned user is refused. */
  async join(roomId: string, userId: string): Promise<JoinOutcome> {
    const found = await roomWithSeq(this.db.primary, roomId);
    if (!found || found.room.type === 'direct') throw new ChatError('NOT_FOUND', 'no such room');
    const { membership } = this;
    // Checked and written under the membership lock, so a concurrent ban cannot slip in between.
    return membership.change(roomId, userId, async (trx): Promise<JoinOutcome> => {
      if (await membership.isBanned(trx, roomId, userId)) throw new ChatError('FORBIDDEN', 'banned from this room');
      if ((await membership.roleOf(trx, roomId, userId)) !== undefined) return { kind: 'member', room: found.room };
      if (found.room.type === 'private') return { kind: 'requested', joinRequest: await membership.requestJoin(trx, roomId, userId) };
      await membership.join(trx, roomId, userId, found.lastSeq);
      return { kind: 'joined', room: found.room };
    });
  }

  async leave(roomId: string, userId: string): Promise<void> {
    const left = await this.membership.change(roomId, userId, (trx) => this.membership.leave(trx, roomId, userId));
    if (!left) throw await this.membership.accessError(roomId);
  }
}
