import type { ColumnType, Generated, Insertable, JSONColumnType, Selectable, Updateable } from 'kysely';

// Kysely table types for db/migrations. Keep in step with the SQL: a column added there is added here.
//
// bigint columns (seq cursors, audit ids) are JS numbers on purpose: both drivers are configured to
// parse int8 to number (see type-parsers.ts), and 2^53 messages per room is out of reach.

/** A timestamptz with a database default: read as Date, optional on insert. */
type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** A nullable timestamptz: read as Date | null. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** A required timestamptz without default. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type RoomType = 'public' | 'private' | 'direct';
export type MemberRole = 'owner' | 'admin' | 'member';
export type JoinRequestStatus = 'pending' | 'approved' | 'rejected';

export interface UsersTable {
  id: string;
  /** Lower-case, 3-32 chars of [a-z0-9_] (enforced by a CHECK). */
  username: string;
  display_name: string;
  password_hash: string;
  created_at: CreatedAt;
  /** May use the operator API (/ops/...) with their own access token (migration 0009). */
  is_admin: Generated<boolean>;
  /** Set while the account is disabled: no sign-in, sessions revoked (migration 0009). */
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The profile picture: its bytes are `avatars/<avatar_id>` in the file store (migration 0012). */
  avatar_id: string | null;
  avatar_type: string | null;
}

/** A refresh-token family. */
export interface SessionsTable {
  id: string;
  user_id: string;
  refresh_token_hash: string;
  /** Bumped on every rotation. */
  generation: Generated<number>;
  revoked_at: NullableTimestamp;
  created_at: CreatedAt;
  last_used_at: CreatedAt;
  expires_at: Timestamp;
}

export interface RoomsTable {
  id: string;
  name: string;
  type: RoomType;
  /** Sorted pair of user ids for direct rooms, null otherwise. */
  direct_key: string | null;
  last_seq: Generated<number>;
  created_by: string | null;
  /** Shown under the name; null when there is none. */
  topic: string | null;
  created_at: CreatedAt;
}

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  role: Generated<MemberRole>;
  delivered_seq: Generated<number>;
  read_seq: Generated<number>;
  joined_at: CreatedAt;
  left_at: NullableTimestamp;
}

export interface MessagesTable {
  /** The client's UUID. */
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  reply_to: string | null;
  created_at: CreatedAt;
  edited_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

export interface FilesTable {
  /** The server's UUID for the file. */
  id: string;
  room_id: string;
  /** The id of the message the file was uploaded for (sent or not yet). */
  message_id: string;
  uploader_id: string;
  name: string;
  content_type: string;
  size: number;
  /** The key of its bytes in the node's file store. */
  storage_key: string;
  state: Generated<'pending' | 'stored'>;
  /** Named by a `message:send` of its message: only claimed files show on the message. */
  claimed: Generated<boolean>;
  created_at: CreatedAt;
}

export interface ReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: CreatedAt;
}

export interface JoinRequestsTable {
  room_id: string;
  user_id: string;
  status: Generated<JoinRequestStatus>;
  created_at: CreatedAt;
  decided_by: string | null;
  decided_at: NullableTimestamp;
}

export interface BansTable {
  room_id: string;
  user_id: string;
  reason: string | null;
  banned_by: string | null;
  created_at: CreatedAt;
}

export interface TimeoutsTable {
  room_id: string;
  user_id: string;
  until: Timestamp;
  reason: string | null;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<number>;
  room_id: string | null;
  actor_id: string | null;
  action: string;
  target_user_id: string | null;
  // Written as a JSON string (JSON.stringify) so pg and PGlite serialise it the same way.
  details: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  messages: MessagesTable;
  reactions: ReactionsTable;
  files: FilesTable;
  join_requests: JoinRequestsTable;
  bans: BansTable;
  timeouts: TimeoutsTable;
  audit_log: AuditLogTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type SessionUpdate = Updateable<SessionsTable>;
export type Room = Selectable<RoomsTable>;
export type NewRoom = Insertable<RoomsTable>;
export type RoomUpdate = Updateable<RoomsTable>;
export type RoomMember = Selectable<RoomMembersTable>;
export type NewRoomMember = Insertable<RoomMembersTable>;
export type RoomMemberUpdate = Updateable<RoomMembersTable>;
export type Message = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type MessageUpdate = Updateable<MessagesTable>;
export type Reaction = Selectable<ReactionsTable>;
export type NewReaction = Insertable<ReactionsTable>;
export type JoinRequest = Selectable<JoinRequestsTable>;
export type NewJoinRequest = Insertable<JoinRequestsTable>;
export type JoinRequestUpdate = Updateable<JoinRequestsTable>;
export type Ban = Selectable<BansTable>;
export type NewBan = Insertable<BansTable>;
export type Timeout = Selectable<TimeoutsTable>;
export type NewTimeout = Insertable<TimeoutsTable>;
export type AuditLogEntry = Selectable<AuditLogTable>;
export type NewAuditLogEntry = Insertable<AuditLogTable>;
