import { z } from 'zod';
import { IdSchema, MessageIdSchema, RoleSchema, RoomTypeSchema, SeqSchema, TimestampSchema } from './primitives';

export const UserSchema = z.object({
  id: IdSchema,
  username: z.string(),
  displayName: z.string(),
  /** The profile picture's address (relative to the server; needs no token); absent when there is none. */
  avatarUrl: z.string().optional(),
  createdAt: TimestampSchema,
});
export type User = z.infer<typeof UserSchema>;

export const RoomSchema = z.object({
  id: IdSchema,
  name: z.string(),
  type: RoomTypeSchema,
  /** Set by the room's owner or an admin; absent when there is none. */
  topic: z.string().optional(),
  createdAt: TimestampSchema,
});
export type Room = z.infer<typeof RoomSchema>;

export const ReactionSummarySchema = z.object({
  emoji: z.string(),
  count: z.number().int().nonnegative(),
  userIds: z.array(IdSchema),
});
export type ReactionSummary = z.infer<typeof ReactionSummarySchema>;

/**
 * The content types a file may have (PROTOCOL.md "Files"). Images are checked against their first bytes and
 * shown inline; everything else is served only as a download. No HTML, SVG or script, ever.
 */
export const FILE_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'application/zip'] as const;
export const FileContentTypeSchema = z.enum(FILE_CONTENT_TYPES);
export type FileContentType = z.infer<typeof FileContentTypeSchema>;

/** A file posted with a message: what it is, not where it lives (GET /api/files/:fileId/link). */
export const AttachmentSchema = z.object({
  id: MessageIdSchema,
  name: z.string(),
  type: FileContentTypeSchema,
  size: z.number().int().nonnegative(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

export const MessageSchema = z.object({
  id: MessageIdSchema,
  roomId: IdSchema,
  seq: SeqSchema,
  senderId: IdSchema,
  senderName: z.string(),
  content: z.string(),
  replyTo: MessageIdSchema.optional(),
  createdAt: TimestampSchema,
  editedAt: TimestampSchema.optional(),
  deleted: z.boolean().optional(),
  reactions: z.array(ReactionSummarySchema).optional(),
  /** Files uploaded for this message; gone from a deleted message. */
  attachments: z.array(AttachmentSchema).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export const RoomSummarySchema = RoomSchema.extend({
  role: RoleSchema,
  lastSeq: SeqSchema,
  readSeq: SeqSchema,
  deliveredSeq: SeqSchema,
  unread: z.number().int().nonnegative(),
  /** Of the unread, those that mention the caller (`@username`, anywhere in the text); absent from older servers. */
  mentions: z.number().int().nonnegative().optional(),
  lastMessage: MessageSchema.optional(),
});
export type RoomSummary = z.infer<typeof RoomSummarySchema>;

export const MemberSchema = z.object({
  userId: IdSchema,
  username: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  online: z.boolean(),
  avatarUrl: z.string().optional(),
  /** Present while the member is timed out in the room: when they may write again. */
  timedOutUntil: TimestampSchema.optional(),
  /**
   * The member's cursors as stored when the member was read (as `receipts` events move them): a client that
   * loads the member list knows who has read what without waiting for their next receipt. Cursors only move
   * forward, so a client keeps the higher of these and what live receipts told it.
   */
  deliveredSeq: SeqSchema.optional(),
  readSeq: SeqSchema.optional(),
});
export type Member = z.infer<typeof MemberSchema>;

export const JoinRequestSchema = z.object({
  roomId: IdSchema,
  userId: IdSchema,
  status: z.enum(['pending', 'approved', 'rejected']),
  createdAt: TimestampSchema,
});
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

/** A pending request as the room's owner and admins list it: who is asking, by name. */
export const PendingJoinRequestSchema = JoinRequestSchema.extend({ username: z.string(), displayName: z.string() });
export type PendingJoinRequest = z.infer<typeof PendingJoinRequestSchema>;

/** A user banned from a room, as its owner and admins list them. */
export const BanSchema = z.object({
  roomId: IdSchema,
  userId: IdSchema,
  username: z.string(),
  displayName: z.string(),
  reason: z.string().optional(),
  createdAt: TimestampSchema,
});
export type Ban = z.infer<typeof BanSchema>;

export const AuditEntrySchema = z.object({
  id: z.string(),
  roomId: IdSchema,
  actorId: IdSchema,
  /** The actor's and the target's display names as they are now. */
  actorName: z.string().optional(),
  action: z.string(),
  targetUserId: IdSchema.optional(),
  targetName: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  createdAt: TimestampSchema,
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const PresenceSchema = z.object({
  userId: IdSchema,
  online: z.boolean(),
  lastSeen: TimestampSchema.optional(),
});
export type Presence = z.infer<typeof PresenceSchema>;
