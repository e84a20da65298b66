export { createDatabase, DEFAULT_POOL_MAX, POOL_MAX_CAP } from './create-database';
export type {
  Database,
  DatabaseConfig,
  DatabaseLogger,
  DatabasePools,
  PGliteDatabaseConfig,
  PostgresDatabaseConfig,
  ReadRouting,
} from './create-database';
export { migrateToLatest, pendingMigrations, SqlFileMigrationProvider, defaultMigrationsDir } from './migrate';
export { PGliteDialect } from './pglite-dialect';
export { compiledQuery } from './compiled-query';
export { prepared, preparedStatementName } from './prepared-statements';
export type { PGliteDialectConfig } from './pglite-dialect';
export { asReadonly, type ReadonlyKysely } from './readonly-kysely';
export { createReplicaRouter, parseLsn } from './replica-router';
export type { Lsn, ReplicaHealth, ReplicaProbe, ReplicaRouter, ReplicaRouterOptions, RoutedTarget } from './replica-router';
export type {
  AuditLogEntry,
  AuditLogTable,
  Ban,
  BansTable,
  DB,
  JoinRequest,
  JoinRequestStatus,
  JoinRequestUpdate,
  JoinRequestsTable,
  MemberRole,
  Message,
  MessageUpdate,
  MessagesTable,
  NewAuditLogEntry,
  NewBan,
  NewJoinRequest,
  NewMessage,
  NewReaction,
  NewRoom,
  NewRoomMember,
  NewSession,
  NewTimeout,
  NewUser,
  Reaction,
  ReactionsTable,
  Room,
  RoomMember,
  RoomMemberUpdate,
  RoomMembersTable,
  RoomType,
  RoomUpdate,
  RoomsTable,
  Session,
  SessionUpdate,
  SessionsTable,
  Timeout,
  TimeoutsTable,
  User,
  UserUpdate,
  UsersTable,
} from './schema';
// Re-exported so callers build raw fragments with the same kysely instance as ours.
export { sql } from 'kysely';
export type { Kysely, Transaction, Selectable, Insertable, Updateable } from 'kysely';
