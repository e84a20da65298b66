import { randomUUID } from 'node:crypto';
import { sql, type Database } from '@chat/db';
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

  /**
   * The pair's one direct room, named after both usernames; `created` only for the request that made it.
   * A pair's room that one or both had left is reopened for both (`rejoined`: who came back), with its
   * history: a direct room is the pair's, not a room either can lose for good by leaving it once.
   */
  async openDirect(me: { userId: string; username: string }, otherId: string): Promise<{ room: Room; created: boolean; rejoined: string[] }> {
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
    if (created) return { room: created, created: true, rejoined: [] };
    const room = await directRoomByKey(this.db.primary, directKey);
    const rejoined: string[] = [];
    for (const userId of [me.userId, otherId]) {
      const back = await this.membership.change(room.id, userId, async (trx) => {
        if ((await this.membership.roleOf(trx, room.id, userId)) !== undefined) return false;
        await this.membership.rejoinDirect(trx, room.id, userId);
        return true;
      });
      if (back) rejoined.push(userId);
    }
    return { room, created: false, rejoined };
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

  /**
   * Leaves a room. The last owner of a room that still has other members must hand it over first
   * (CONFLICT): a room nobody can moderate any more is a room nobody can fix. The room's row is locked for
   * the check, so two owners leaving at once cannot both find the other still there.
   */
  async leave(roomId: string, userId: string): Promise<void> {
    const left = await this.membership.change(roomId, userId, async (trx) => {
      if ((await this.membership.roleOf(trx, roomId, userId)) === 'owner') {
        await sql`select 1 from rooms where id = ${roomId} for update`.execute(trx);
        const others = await trx
          .selectFrom('room_members')
          .select(({ fn }) => [fn.countAll<string>().as('members'), fn.count<string>('role').filterWhere('role', '=', 'owner').as('owners')])
          .where('room_id', '=', roomId)
          .where('user_id', '!=', userId)
          .where('left_at', 'is', null)
          .executeTakeFirstOrThrow();
        if (Number(others.members) > 0 && Number(others.owners) === 0) {
          throw new ChatError('CONFLICT', 'you are the last owner: make another member an owner before leaving');
        }
      }
      return this.membership.leave(trx, roomId, userId);
    });
    if (!left) throw await this.membership.accessError(roomId);
  }
}
