import type { DB, Database, Kysely, Transaction } from '@chat/db';
import { ChatError, parseRoomChannel, roomChannel, userChannel, type JoinRequest, type Member, type Role, type Room } from '@chat/protocol';
import type { ChatServer } from '../socket/types';
import { toRoom } from '../views/room-view';
import { memberById } from './member-queries';
import { lockMembership } from './membership-lock';

type Trx = Transaction<DB>;

/**
 * Room membership: the one owner of every write to `room_members` (who is a member, their role, when they
 * left), `bans` and `join_requests`, and of the membership lock. Features (rooms, moderation) call it and
 * touch none of those rows themselves; the cursor columns of a member row are the message path's
 * (features/messages: group commit and cursor writer).
 *
 * It also keeps the invariant that makes authorization O(1): a socket is in `room:<id>` exactly when its
 * user is a member. Every change is announced through here, which updates the user's sockets on every node
 * through the adapter (`io.in(user:<id>).socketsJoin`), so handlers only ask `socket.rooms.has(...)`.
 *
 * Writes take the caller's transaction, so a feature's own rows (a room, an audit entry) commit with them.
 */
export class Membership {
  constructor(
    private readonly db: Database,
    private readonly io: ChatServer,
    /** Read-your-writes for the user a change is about, on every node, before they are told (ReadYourWrites.fence). */
    private readonly fence: (userIds: readonly string[]) => Promise<void>,
    /** Read-your-writes for everyone told about a change in these rooms (ReadYourWrites.fenceRooms): the member list. */
    private readonly fenceRooms: (roomIds: readonly string[]) => Promise<void>,
  ) {}

  // --- Who may do what. Reads the primary: authorization must not lag.

  /** NOT_FOUND for a room the user cannot see (none, private or direct), FORBIDDEN for a public one. */
  async accessError(roomId: string): Promise<ChatError> {
    const room = await this.db.primary.selectFrom('rooms').select('type').where('id', '=', roomId).executeTakeFirst();
    return room?.type === 'public' ? new ChatError('FORBIDDEN', 'not a member of this room') : new ChatError('NOT_FOUND', 'no such room');
  }

  /** The caller's role, or the access error. */
  /** The user's role in the room now (primary), undefined when not a member. */
  currentRole(userId: string, roomId: string): Promise<Role | undefined> {
    return this.roleOf(this.db.primary, roomId, userId);
  }

  async requireMember(userId: string, roomId: string): Promise<Role> {
    const role = await this.roleOf(this.db.primary, roomId, userId);
    if (role === undefined) throw await this.accessError(roomId);
    return role;
  }

  memberView(roomId: string, userId: string, online: boolean): Promise<Member> {
    return memberById(this.db.primary, roomId, userId, online);
  }

  /**
   * Puts this node's sockets back in step with the database (after the cluster bus was cut, when joins and
   * leaves announced through the adapter may have been lost): a socket leaves the room channels of rooms its
   * user no longer belongs to, and is told `room:left`; it joins the channels of rooms its user joined
   * meanwhile (its client learns of those rooms from the messages and its next room list). One query per
   * thousand users. Returns how many channels were left and joined.
   */
  async resyncLocalSockets(): Promise<{ left: number; joined: number }> {
    const sockets = [...this.io.of('/').sockets.values()];
    const users = [...new Set(sockets.map((s) => s.data.userId))];
    const roomsOf = new Map<string, Set<string>>();
    for (let i = 0; i < users.length; i += 1000) {
      const rows = await this.db.primary
        .selectFrom('room_members')
        .select(['user_id', 'room_id'])
        .where('user_id', 'in', users.slice(i, i + 1000))
        .where('left_at', 'is', null)
        .execute();
      for (const r of rows) {
        let set = roomsOf.get(r.user_id);
        if (!set) roomsOf.set(r.user_id, (set = new Set()));
        set.add(r.room_id);
      }
    }
    let left = 0;
    let joined = 0;
    for (const socket of sockets) {
      if (!socket.connected) continue;
      const member = roomsOf.get(socket.data.userId) ?? new Set<string>();
      for (const channel of [...socket.rooms]) {
        const roomId = parseRoomChannel(channel);
        if (roomId === undefined || member.has(roomId)) continue;
        void socket.leave(channel);
        socket.emit('room:left', { roomId });
        left++;
      }
      for (const roomId of member) {
        if (socket.rooms.has(roomChannel(roomId))) continue;
        void socket.join(roomChannel(roomId));
        joined++;
      }
    }
    return { left, joined };
  }

  // --- Changes.

  /**
   * Runs `change` in a primary transaction that holds the lock of this user's membership of this room, so a
   * check it makes ("not banned", "is a member", the target's role) cannot be overtaken by a concurrent
   * change on another node before it commits.
   */
  change<T>(roomId: string, userId: string, change: (trx: Trx) => Promise<T>): Promise<T> {
    return this.db.primary.transaction().execute(async (trx) => {
      await lockMembership(trx, roomId, userId);
      return change(trx);
    });
  }

  /** The founding members of a room created in `trx`: nobody can change them before it commits. */
  async found(trx: Trx, roomId: string, members: readonly { userId: string; role: Role }[]): Promise<void> {
    await trx
      .insertInto('room_members')
      .values(members.map((m) => ({ room_id: roomId, user_id: m.userId, role: m.role })))
      .execute();
  }

  /** The user's role while a member, else undefined; in a change, read with its transaction. */
  async roleOf(db: Kysely<DB>, roomId: string, userId: string): Promise<Role | undefined> {
    const row = await db
      .selectFrom('room_members')
      .select('role')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    return row?.role;
  }

  async isBanned(trx: Trx, roomId: string, userId: string): Promise<boolean> {
    const row = await trx.selectFrom('bans').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Makes the user a member. A new member starts with cursors at the room's current end (`lastSeq`): the
   * backlog is history to browse, not unread messages to sync. A returning member keeps the cursors they had.
   */
  async join(trx: Trx, roomId: string, userId: string, lastSeq: number): Promise<void> {
    await trx
      .insertInto('room_members')
      .values({ room_id: roomId, user_id: userId, role: 'member', delivered_seq: lastSeq, read_seq: lastSeq })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ left_at: null, role: 'member', joined_at: new Date() }))
      .execute();
  }

  /** Back into a direct room they had left, as a member, reading on from where they left. */
  async rejoinDirect(trx: Trx, roomId: string, userId: string): Promise<void> {
    await trx.updateTable('room_members').set({ left_at: null, role: 'member', joined_at: new Date() }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
  }

  /**
   * Admits the user on a moderator's word (an invite, an approval): joins them as above and settles their
   * pending join request as approved. Returns the room, or undefined when they already were a member.
   */
  async admit(trx: Trx, roomId: string, userId: string, actorId: string): Promise<Room | undefined> {
    if ((await this.roleOf(trx, roomId, userId)) !== undefined) return undefined;
    const room = await trx.selectFrom('rooms').select(['id', 'name', 'type', 'topic', 'created_at', 'last_seq']).where('id', '=', roomId).executeTakeFirstOrThrow();
    await this.join(trx, roomId, userId, room.last_seq);
    await this.settleRequest(trx, roomId, userId, actorId, 'approved');
    return toRoom(room);
  }

  /** Creates (or renews) the user's pending request to join a private room. */
  async requestJoin(trx: Trx, roomId: string, userId: string): Promise<JoinRequest> {
    const row = await trx
      .insertInto('join_requests')
      .values({ room_id: roomId, user_id: userId, status: 'pending' })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ status: 'pending', decided_at: null, decided_by: null, created_at: new Date() }))
      .returning(['room_id', 'user_id', 'status', 'created_at'])
      .executeTakeFirstOrThrow();
    return { roomId: row.room_id, userId: row.user_id, status: row.status, createdAt: row.created_at.toISOString() };
  }

  /** Settles the user's pending join request; false when there was none. */
  async settleRequest(trx: Trx, roomId: string, userId: string, actorId: string, status: 'approved' | 'rejected'): Promise<boolean> {
    const res = await trx
      .updateTable('join_requests')
      .set({ status, decided_by: actorId, decided_at: new Date() })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Ends the user's membership (leaving, or kicked); false when they were not a member. The row is kept. */
  async leave(trx: Trx, roomId: string, userId: string): Promise<boolean> {
    const res = await trx
      .updateTable('room_members')
      .set({ left_at: new Date() })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async setRole(trx: Trx, roomId: string, userId: string, role: Role): Promise<void> {
    await trx.updateTable('room_members').set({ role }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
  }

  /** Bans the user (again, with a new reason), removes them if a member and rejects their pending request. */
  async ban(trx: Trx, roomId: string, userId: string, ban: { reason: string | undefined; by: string }): Promise<{ removed: boolean }> {
    const reason = ban.reason ?? null;
    await trx
      .insertInto('bans')
      .values({ room_id: roomId, user_id: userId, reason, banned_by: ban.by })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ reason, banned_by: ban.by, created_at: new Date() }))
      .execute();
    const removed = await this.leave(trx, roomId, userId);
    await this.settleRequest(trx, roomId, userId, ban.by, 'rejected');
    return { removed };
  }

  /** False when the user was not banned. */
  async unban(trx: Trx, roomId: string, userId: string): Promise<boolean> {
    const res = await trx.deleteFrom('bans').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  // --- Telling everyone concerned, after the change committed.

  /** Joins the user's live sockets (all nodes) to the room and tells them and the room. */
  async announceJoin(room: Room, member: Member): Promise<void> {
    await Promise.all([this.fence([member.userId]), this.fenceRooms([room.id])]);
    this.changeChannels('join', member.userId, roomChannel(room.id));
    this.io.to(userChannel(member.userId)).emit('room:joined', { room });
    this.io.to(roomChannel(room.id)).except(userChannel(member.userId)).emit('member:joined', { roomId: room.id, member });
  }

  /**
   * Moves the user's sockets on every node in or out of a room channel. This node's sockets first and at
   * once, through the adapter's own table: the sharded adapter applies a `socketsJoin` locally only after
   * its Redis publish returns, while the event that follows (`room:joined`) reaches local sockets at once,
   * so a client that sent right after `room:joined` (or the REST answer) was refused FORBIDDEN. The table
   * also holds a socket still in its handshake (it joined `user:<id>` in the auth step), which
   * `socketsJoin` and broadcasts skip: a room created while the client connects is not missed on this node.
   * Other nodes get the change before the event, in publish order on the one Redis connection.
   */
  private changeChannels(change: 'join' | 'leave', userId: string, channel: string): void {
    const adapter = this.io.of('/').adapter;
    for (const sid of adapter.rooms.get(userChannel(userId)) ?? []) {
      if (change === 'join') void adapter.addAll(sid, new Set([channel]));
      else void adapter.del(sid, channel);
    }
    const everywhere = this.io.in(userChannel(userId));
    if (change === 'join') everywhere.socketsJoin(channel);
    else everywhere.socketsLeave(channel);
  }

  async announceLeave(roomId: string, userId: string): Promise<void> {
    await Promise.all([this.fence([userId]), this.fenceRooms([roomId])]);
    this.changeChannels('leave', userId, roomChannel(roomId));
    this.io.to(userChannel(userId)).emit('room:left', { roomId });
    this.io.to(roomChannel(roomId)).emit('member:left', { roomId, userId });
  }

  /** Tells each room how one of its members is now (a role, a timeout, a name or picture). */
  async announceUpdate(updates: readonly { roomId: string; member: Member }[]): Promise<void> {
    await this.fenceRooms(updates.map((u) => u.roomId));
    for (const { roomId, member } of updates) this.io.to(roomChannel(roomId)).emit('member:updated', { roomId, member });
  }
}
