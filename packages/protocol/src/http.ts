import { z } from 'zod';
import { AttachmentSchema, AuditEntrySchema, BanSchema, JoinRequestSchema, MemberSchema, PendingJoinRequestSchema, MessageSchema, RoomSchema, RoomSummarySchema, UserSchema } from './entities';
import { LIMITS } from './limits';
import {
  DisplayNameSchema,
  IdSchema,
  MessageIdSchema,
  normaliseDisplayName,
  PasswordSchema,
  RoleSchema,
  RoomNameSchema,
  RoomTopicSchema,
  SeqSchema,
  TimestampSchema,
  UsernameSchema,
} from './primitives';

/** Request and response bodies of the HTTP API (prefix `/api`). */

// Query strings arrive as strings: numbers are coerced, then range-checked.
const querySeq = z.coerce.number().pipe(SeqSchema);
const queryText = z.string().max(200);

export const RegisterBodySchema = z.object({
  username: UsernameSchema,
  password: PasswordSchema,
  displayName: DisplayNameSchema.optional(),
});
export type RegisterBody = z.input<typeof RegisterBodySchema>;

export const LoginBodySchema = z.object({
  username: z.string().max(LIMITS.usernameMax * 4).transform((s) => s.toLowerCase()),
  password: z.string().max(LIMITS.passwordMax),
});
export type LoginBody = z.input<typeof LoginBodySchema>;

export const AuthResponseSchema = z.object({ user: UserSchema, accessToken: z.string(), refreshToken: z.string() });
export type AuthResponse = z.infer<typeof AuthResponseSchema>;

export const RefreshBodySchema = z.object({ refreshToken: z.string().min(1).max(512) });
export type RefreshBody = z.infer<typeof RefreshBodySchema>;

export const TokensResponseSchema = z.object({ accessToken: z.string(), refreshToken: z.string() });
export type TokensResponse = z.infer<typeof TokensResponseSchema>;

export const LogoutBodySchema = RefreshBodySchema;

/** A new password; every other session of the user is signed out. */
export const ChangePasswordBodySchema = z.object({ currentPassword: z.string().min(1).max(LIMITS.passwordMax), newPassword: PasswordSchema });
export type ChangePasswordBody = z.infer<typeof ChangePasswordBodySchema>;
export type LogoutBody = RefreshBody;

export const MeResponseSchema = z.object({ user: UserSchema });

/** What a user may change of how others see them. */
export const UpdateProfileBodySchema = z.object({ displayName: DisplayNameSchema });
export type UpdateProfileBody = z.infer<typeof UpdateProfileBodySchema>;
export type MeResponse = z.infer<typeof MeResponseSchema>;

export const UserSearchQuerySchema = z.object({ query: queryText.default('') });
export const UserSearchResponseSchema = z.object({ users: z.array(UserSchema).max(LIMITS.userSearchMax) });
export type UserSearchResponse = z.infer<typeof UserSearchResponseSchema>;

export const RoomParamsSchema = z.object({ roomId: IdSchema });
export const RoomUserParamsSchema = z.object({ roomId: IdSchema, userId: IdSchema });

// Files (PROTOCOL.md "Files"). The upload's body is the file's bytes, its type the Content-Type header.
export const FileParamsSchema = z.object({ fileId: MessageIdSchema });

/** A file name as stored and offered for download: no path, no control or invisible characters. */
export const FileNameSchema = z
  .string()
  .max(LIMITS.fileNameMax * 4)
  .transform((s) => normaliseDisplayName(s.replace(/[\\/\p{Cc}]/gu, '_')).slice(0, LIMITS.fileNameMax))
  .pipe(z.string().min(1, 'file name must not be blank'));

export const AvatarParamsSchema = z.object({ avatarId: MessageIdSchema });

export const UploadFileQuerySchema = z.object({
  /** The id of the message the file will be sent with (the client's id for it, reused on every retry). */
  messageId: MessageIdSchema,
  name: FileNameSchema,
});
export type UploadFileQuery = z.input<typeof UploadFileQuerySchema>;

export const FileResponseSchema = z.object({ file: AttachmentSchema });
export type FileResponse = z.infer<typeof FileResponseSchema>;

/** A short-lived address of the file's bytes that needs no token (for `<img src>` and downloads). */
export const FileLinkResponseSchema = z.object({ url: z.string(), expiresAt: TimestampSchema });
export type FileLinkResponse = z.infer<typeof FileLinkResponseSchema>;

export const FileContentQuerySchema = z.object({
  expires: z.coerce.number().int().positive(),
  signature: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'invalid signature'),
});

/** A new name, topic, or both (owner or admin; not for direct rooms). */
export const UpdateRoomBodySchema = z
  .object({ name: RoomNameSchema.optional(), topic: RoomTopicSchema.optional() })
  .refine((b) => b.name !== undefined || b.topic !== undefined, 'give a name, a topic, or both');
export type UpdateRoomBody = z.infer<typeof UpdateRoomBodySchema>;

export const CreateRoomBodySchema = z.object({ name: RoomNameSchema, type: z.enum(['public', 'private']) });
export type CreateRoomBody = z.infer<typeof CreateRoomBodySchema>;

export const DirectRoomBodySchema = z.object({ userId: IdSchema });
export type DirectRoomBody = z.infer<typeof DirectRoomBodySchema>;

export const RoomResponseSchema = z.object({ room: RoomSchema });
export type RoomResponse = z.infer<typeof RoomResponseSchema>;

export const RoomListResponseSchema = z.object({ rooms: z.array(RoomSummarySchema) });
export type RoomListResponse = z.infer<typeof RoomListResponseSchema>;

export const DiscoverQuerySchema = z.object({ query: queryText.default('') });
export const DiscoverResponseSchema = z.object({ rooms: z.array(RoomSchema) });
export type DiscoverResponse = z.infer<typeof DiscoverResponseSchema>;

export const JoinRequestResponseSchema = z.object({ joinRequest: JoinRequestSchema });
export type JoinRequestResponse = z.infer<typeof JoinRequestResponseSchema>;

export const MembersResponseSchema = z.object({ members: z.array(MemberSchema) });
export type MembersResponse = z.infer<typeof MembersResponseSchema>;

/** `before`/`after` are exclusive seq cursors; `limit` above the maximum is capped, not rejected. */
export const HistoryQuerySchema = z.object({
  before: querySeq.optional(),
  after: querySeq.optional(),
  limit: z.coerce
    .number()
    .int()
    .positive()
    .transform((n) => Math.min(n, LIMITS.historyMaxLimit))
    .default(LIMITS.historyDefaultLimit),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

export const HistoryResponseSchema = z.object({ messages: z.array(MessageSchema), hasMore: z.boolean() });
export type HistoryResponse = z.infer<typeof HistoryResponseSchema>;

export const SearchQuerySchema = z.object({
  q: z.string().max(200).refine((s) => s.trim().length > 0, 'query must not be blank'),
  roomId: IdSchema.optional(),
});
export type SearchQuery = z.infer<typeof SearchQuerySchema>;

export const SearchResponseSchema = z.object({
  results: z.array(z.object({ message: MessageSchema, highlight: z.string() })),
});
export type SearchResponse = z.infer<typeof SearchResponseSchema>;

// Moderation.
export const InviteBodySchema = z.object({ userId: IdSchema });
/** `owner` hands the room over: the target becomes its owner and the caller an admin. */
export const UpdateRoleBodySchema = z.object({ role: RoleSchema });
export const BanBodySchema = z.object({ userId: IdSchema, reason: z.string().max(LIMITS.reasonMax).optional() });
export const TimeoutBodySchema = z.object({
  userId: IdSchema,
  seconds: z.number().int().positive().max(LIMITS.timeoutMaxSeconds),
  reason: z.string().max(LIMITS.reasonMax).optional(),
});
export const JoinRequestsResponseSchema = z.object({ joinRequests: z.array(PendingJoinRequestSchema) });
export type JoinRequestsResponse = z.infer<typeof JoinRequestsResponseSchema>;
export const AuditLogQuerySchema = z.object({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce
    .number()
    .int()
    .positive()
    .transform((n) => Math.min(n, LIMITS.historyMaxLimit))
    .default(LIMITS.historyDefaultLimit),
});
export const BansResponseSchema = z.object({ bans: z.array(BanSchema) });
export type BansResponse = z.infer<typeof BansResponseSchema>;

export const AuditLogResponseSchema = z.object({ entries: z.array(AuditEntrySchema), hasMore: z.boolean() });
export type AuditLogResponse = z.infer<typeof AuditLogResponseSchema>;

export const ReadyResponseSchema = z.object({ status: z.literal('ready'), node: z.string() });
export type ReadyResponse = z.infer<typeof ReadyResponseSchema>;

export const MemberResponseSchema = z.object({ member: MemberSchema });
export type MemberResponse = z.infer<typeof MemberResponseSchema>;

/** `POST /rooms/:roomId/join`: a public room is joined at once (200), a private one answers a pending request (202). */
export const JoinResponseSchema = z.union([RoomResponseSchema, JoinRequestResponseSchema]);
export type JoinResponse = z.infer<typeof JoinResponseSchema>;

export const HealthResponseSchema = z.object({ status: z.literal('ok') });
