import type { Database } from '@chat/db';
import { ChatError, roomChannel, userChannel, type Member, type Role, type Room } from '@chat/protocol';
import type { ChatServer } from '../../socket/types';

/**
 * Room membership and the invariant that makes authorization O(1): a socket is in `room:<id>` exactly when
 * its user is a member. Every membership change goes through here, and updates the user's sockets on every
 * node through the adapter (`io.in(user:<id>).socketsJoin`), so handlers only ask `socket.rooms.has(...)`.
 */
export class Membership {
  constructor(
    private readonly db: Database,
    private readonly io: ChatServer,
    /** Read-your-writes for the user a change is about, on every node, before they are told (ReadYourWrites.fence). */
    private readonly fence: (userIds: readonly string[]) => Promise<void>,
  ) {}

  /** NOT_FOUND for a room the user cannot see (none, private or direct), FORBIDDEN for a public one. */
  async accessError(roomId: string): Promise<ChatError> {
    const room = await this.db.primary.selectFrom('rooms').select('type').where('id', '=', roomId).executeTakeFirst();
    return room?.type === 'public' ? new ChatError('FORBIDDEN', 'not a member of this room') : new ChatError('NOT_FOUND', 'no such room');
  }

  /** The caller's role, or the access error. Reads the primary: authorization must not lag. */
  async requireMember(userId: string, roomId: string): Promise<Role> {
    const row = await this.db.primary
      .selectFrom('room_members')
      .select('role')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw await this.accessError(roomId);
    return row.role;
  }

  /** Joins the user's live sockets (all nodes) to the room and tells everyone concerned. */
  async announceJoin(room: Room, member: Member): Promise<void> {
    await this.fence([member.userId]);
    this.io.in(userChannel(member.userId)).socketsJoin(roomChannel(room.id));
    this.io.to(userChannel(member.userId)).emit('room:joined', { room });
    this.io.to(roomChannel(room.id)).except(userChannel(member.userId)).emit('member:joined', { roomId: room.id, member });
  }

  async announceLeave(roomId: string, userId: string): Promise<void> {
    await this.fence([userId]);
    this.io.in(userChannel(userId)).socketsLeave(roomChannel(roomId));
    this.io.to(userChannel(userId)).emit('room:left', { roomId });
    this.io.to(roomChannel(roomId)).emit('member:left', { roomId, userId });
  }

  async memberView(roomId: string, userId: string, online: boolean): Promise<Member> {
    const row = await this.db.primary
      .selectFrom('room_members')
      .innerJoin('users', 'users.id', 'room_members.user_id')
      .select(['users.id', 'users.username', 'users.display_name', 'room_members.role'])
      .where('room_members.room_id', '=', roomId)
      .where('room_members.user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return { userId: row.id, username: row.username, displayName: row.display_name, role: row.role, online };
  }
}
