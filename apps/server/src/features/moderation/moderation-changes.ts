import type { DB, Transaction } from '@chat/db';
import { ChatError, type Role, type Room } from '@chat/protocol';
import type { Membership } from '../../membership/membership';
import { recordAudit } from './audit-log';
import { assertOutranks } from './authority';
import { toRoom } from '../../views/room-view';
import { putTimeout, roomForUpdate, updateRoomRow, userExists } from './moderation-queries';

/**
 * What a moderator changes, each in one transaction holding the target's membership lock, with its audit
 * entry in the same transaction (no change without its entry, and no entry without it). The caller has
 * checked that the actor moderates the room (`requireModerator`) and announces what changed.
 */
export class ModerationChanges {
  constructor(private readonly membership: Membership) {}

  /**
   * A new name and/or topic (an empty topic clears it), with its audit entry (old and new values). Direct
   * rooms are named after their pair and have no topic: VALIDATION.
   */
  updateRoom(actorId: string, roomId: string, change: { name?: string | undefined; topic?: string | undefined }): Promise<Room> {
    return this.membership.change(roomId, actorId, async (trx) => {
      const before = await roomForUpdate(trx, roomId);
      if (!before) throw new ChatError('NOT_FOUND', 'no such room');
      if (before.type === 'direct') throw new ChatError('VALIDATION', 'a direct room has no name or topic of its own', { details: { field: 'name' } });
      const set: { name?: string; topic?: string | null } = {};
      if (change.name !== undefined && change.name !== before.name) set.name = change.name;
      const topic = change.topic === undefined ? undefined : change.topic.trim() === '' ? null : change.topic;
      if (topic !== undefined && topic !== before.topic) set.topic = topic;
      if (Object.keys(set).length === 0) return toRoom(before);
      const after = await updateRoomRow(trx, roomId, set);
      const details: Record<string, unknown> = {};
      if (set.name !== undefined) Object.assign(details, { fromName: before.name, toName: set.name });
      if (set.topic !== undefined) Object.assign(details, { fromTopic: before.topic, toTopic: set.topic });
      await recordAudit(trx, { roomId, actorId, action: 'room.update', details });
      return toRoom(after);
    });
  }

  /** Returns the room when the user was admitted; undefined when they already were a member. */
  invite(actorId: string, roomId: string, userId: string): Promise<Room | undefined> {
    return this.membership.change(roomId, userId, async (trx) => {
      if (!(await userExists(trx, userId))) throw new ChatError('NOT_FOUND', 'no such user');
      if (await this.membership.isBanned(trx, roomId, userId)) throw new ChatError('FORBIDDEN', 'the user is banned from this room');
      const room = await this.membership.admit(trx, roomId, userId, actorId);
      if (room) await recordAudit(trx, { roomId, actorId, action: 'member.invite', targetUserId: userId });
      return room;
    });
  }

  approve(actorId: string, roomId: string, userId: string): Promise<Room | undefined> {
    return this.membership.change(roomId, userId, async (trx) => {
      if (await this.membership.isBanned(trx, roomId, userId)) throw new ChatError('FORBIDDEN', 'the user is banned from this room');
      if (!(await this.membership.settleRequest(trx, roomId, userId, actorId, 'approved'))) throw new ChatError('NOT_FOUND', 'no pending join request');
      const room = await this.membership.admit(trx, roomId, userId, actorId);
      await recordAudit(trx, { roomId, actorId, action: 'join_request.approve', targetUserId: userId });
      return room;
    });
  }

  reject(actorId: string, roomId: string, userId: string): Promise<void> {
    return this.membership.change(roomId, userId, async (trx) => {
      if (!(await this.membership.settleRequest(trx, roomId, userId, actorId, 'rejected'))) throw new ChatError('NOT_FOUND', 'no pending join request');
      await recordAudit(trx, { roomId, actorId, action: 'join_request.reject', targetUserId: userId });
    });
  }

  /**
   * Returns whether the role changed. `owner` hands the room over (the caller, its owner, becomes an admin
   * in the same transaction): a room has one owner, who cannot otherwise leave it while others remain.
   */
  setRole(actorId: string, roomId: string, userId: string, role: Role): Promise<boolean> {
    return this.membership.change(roomId, userId, async (trx) => {
      const from = await this.membership.roleOf(trx, roomId, userId);
      if (from === undefined) throw new ChatError('NOT_FOUND', 'not a member of this room');
      if (from === 'owner') throw new ChatError('FORBIDDEN', "the owner's role cannot be changed");
      if (from === role) return false;
      if (role === 'owner') {
        await this.membership.setRole(trx, roomId, actorId, 'admin');
        await recordAudit(trx, { roomId, actorId, action: 'member.role', targetUserId: actorId, details: { from: 'owner', to: 'admin' } });
      }
      await this.membership.setRole(trx, roomId, userId, role);
      await recordAudit(trx, { roomId, actorId, action: 'member.role', targetUserId: userId, details: { from, to: role } });
      return true;
    });
  }

  kick(actor: { id: string; role: Role }, roomId: string, userId: string): Promise<void> {
    return this.membership.change(roomId, userId, async (trx) => {
      await this.requireOutranked(trx, actor.role, roomId, userId);
      await this.membership.leave(trx, roomId, userId);
      await recordAudit(trx, { roomId, actorId: actor.id, action: 'member.kick', targetUserId: userId });
    });
  }

  /** Anyone who is not a current member may be banned pre-emptively; a member only by someone who outranks them. */
  ban(actor: { id: string; role: Role }, roomId: string, userId: string, reason: string | undefined): Promise<{ removed: boolean }> {
    return this.membership.change(roomId, userId, async (trx) => {
      if (!(await userExists(trx, userId))) throw new ChatError('NOT_FOUND', 'no such user');
      const target = await this.membership.roleOf(trx, roomId, userId);
      if (target !== undefined) assertOutranks(actor.role, target);
      const { removed } = await this.membership.ban(trx, roomId, userId, { reason, by: actor.id });
      const details = { ...(reason !== undefined ? { reason } : {}), removed };
      await recordAudit(trx, { roomId, actorId: actor.id, action: 'member.ban', targetUserId: userId, details });
      return { removed };
    });
  }

  unban(actorId: string, roomId: string, userId: string): Promise<void> {
    return this.membership.change(roomId, userId, async (trx) => {
      if (!(await this.membership.unban(trx, roomId, userId))) throw new ChatError('NOT_FOUND', 'the user is not banned from this room');
      await recordAudit(trx, { roomId, actorId, action: 'member.unban', targetUserId: userId });
    });
  }

  /** Times the member out until `now + seconds`; returns the end. */
  timeout(actor: { id: string; role: Role }, roomId: string, userId: string, seconds: number, reason: string | undefined): Promise<Date> {
    const until = new Date(Date.now() + seconds * 1000);
    return this.membership.change(roomId, userId, async (trx) => {
      await this.requireOutranked(trx, actor.role, roomId, userId);
      await putTimeout(trx, { roomId, userId, until, reason, by: actor.id });
      const details = { seconds, until: until.toISOString(), ...(reason !== undefined ? { reason } : {}) };
      await recordAudit(trx, { roomId, actorId: actor.id, action: 'member.timeout', targetUserId: userId, details });
      return until;
    });
  }

  /** The target is a member and the actor outranks them (kick, timeout). */
  private async requireOutranked(trx: Transaction<DB>, actorRole: Role, roomId: string, userId: string): Promise<void> {
    const target = await this.membership.roleOf(trx, roomId, userId);
    if (target === undefined) throw new ChatError('NOT_FOUND', 'not a member of this room');
    assertOutranks(actorRole, target);
  }
}
