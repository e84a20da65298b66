import { z } from 'zod';
import { MemberSchema, MessageSchema, PresenceSchema, ReactionSummarySchema, RoomSchema } from './entities';
import { ErrorObjectSchema, type ErrorObject } from './errors';
import { LIMITS } from './limits';
import { ContentSchema, EmojiSchema, IdSchema, MessageIdSchema, SeqSchema } from './primitives';

/** Payloads of client → server events. Each event takes an acknowledgement callback. */

export const SendMessageSchema = z.object({
  id: MessageIdSchema,
  roomId: IdSchema,
  content: ContentSchema,
  replyTo: MessageIdSchema.optional(),
});
export type SendMessage = z.infer<typeof SendMessageSchema>;

export const EditMessageSchema = z.object({ id: MessageIdSchema, content: ContentSchema });
export type EditMessage = z.infer<typeof EditMessageSchema>;

export const DeleteMessageSchema = z.object({ id: MessageIdSchema });
export type DeleteMessage = z.infer<typeof DeleteMessageSchema>;

export const ReactionSchema = z.object({ messageId: MessageIdSchema, emoji: EmojiSchema });
export type Reaction = z.infer<typeof ReactionSchema>;

export const SyncRequestSchema = z.object({
  rooms: z.array(z.object({ roomId: IdSchema, afterSeq: SeqSchema.optional() })).max(1000).optional(),
  // Above the maximum is capped, not rejected.
  limit: z
    .number()
    .int()
    .positive()
    .transform((n) => Math.min(n, LIMITS.syncMaxLimit))
    .optional(),
});
export type SyncRequest = z.input<typeof SyncRequestSchema>;

export const SyncRoomResultSchema = z.object({
  roomId: IdSchema,
  messages: z.array(MessageSchema),
  hasMore: z.boolean(),
  lastSeq: SeqSchema,
});
export type SyncRoomResult = z.infer<typeof SyncRoomResultSchema>;

export const CursorSchema = z.object({ roomId: IdSchema, seq: SeqSchema });
export type Cursor = z.infer<typeof CursorSchema>;

export const TypingSchema = z.object({ roomId: IdSchema, typing: z.boolean() });
export type Typing = z.infer<typeof TypingSchema>;

export const PresenceGetSchema = z.object({ userIds: z.array(IdSchema).max(LIMITS.presenceGetMaxIds) });
export type PresenceGet = z.infer<typeof PresenceGetSchema>;

/** Every acknowledgement is `{ok: true, ...}` or `{ok: false, error}`. */
export type AckOk<T extends object = object> = { ok: true } & T;
export type AckError = { ok: false; error: ErrorObject };
export type Ack<T extends object = object> = AckOk<T> | AckError;

export const AckErrorSchema = z.object({ ok: z.literal(false), error: ErrorObjectSchema });

export const SendMessageAckSchema = z.object({ ok: z.literal(true), message: MessageSchema });
export const SyncAckSchema = z.object({ ok: z.literal(true), rooms: z.array(SyncRoomResultSchema) });
export const PresenceAckSchema = z.object({ ok: z.literal(true), presence: z.array(PresenceSchema) });

/** Payloads of server → client events. */

export const HelloSchema = z.object({
  userId: IdSchema,
  node: z.string(),
  protocol: z.literal(1),
  rooms: z.array(z.object({ roomId: IdSchema, lastSeq: SeqSchema })),
});
export type Hello = z.infer<typeof HelloSchema>;

export const ReactionUpdatedSchema = z.object({
  roomId: IdSchema,
  messageId: MessageIdSchema,
  reactions: z.array(ReactionSummarySchema),
});
export type ReactionUpdated = z.infer<typeof ReactionUpdatedSchema>;

export const ReceiptSchema = z.object({ roomId: IdSchema, userId: IdSchema, deliveredSeq: SeqSchema, readSeq: SeqSchema });
export type Receipt = z.infer<typeof ReceiptSchema>;

export const TypingEventSchema = z.object({ roomId: IdSchema, userId: IdSchema, typing: z.boolean() });
export type TypingEvent = z.infer<typeof TypingEventSchema>;

export const RoomJoinedSchema = z.object({ room: RoomSchema });
export type RoomJoined = z.infer<typeof RoomJoinedSchema>;
export const RoomLeftSchema = z.object({ roomId: IdSchema });
export type RoomLeft = z.infer<typeof RoomLeftSchema>;

export const MemberJoinedSchema = z.object({ roomId: IdSchema, member: MemberSchema });
export type MemberJoined = z.infer<typeof MemberJoinedSchema>;
export const MemberLeftSchema = z.object({ roomId: IdSchema, userId: IdSchema });
export type MemberLeft = z.infer<typeof MemberLeftSchema>;
export const MemberUpdatedSchema = MemberJoinedSchema;
export type MemberUpdated = MemberJoined;

export const DrainingSchema = z.object({ reconnectInMs: z.number().int().nonnegative() });
export type Draining = z.infer<typeof DrainingSchema>;

export { PresenceSchema as PresenceEventSchema };
