import { z } from 'zod';
import { MemberSchema, MessageSchema, PresenceSchema, ReactionSummarySchema, RoomSchema } from './entities';
import { IdSchema, MessageIdSchema, SeqSchema } from './primitives';
import { PROTOCOL_VERSION } from './version';

/** Payloads of server → client events. */

export const HelloSchema = z.object({
  userId: IdSchema,
  node: z.string(),
  protocol: z.literal(PROTOCOL_VERSION),
  rooms: z.array(z.object({ roomId: IdSchema, lastSeq: SeqSchema })),
});
export type Hello = z.infer<typeof HelloSchema>;

export const ReactionUpdatedSchema = z.object({
  roomId: IdSchema,
  messageId: MessageIdSchema,
  reactions: z.array(ReactionSummarySchema),
});
export type ReactionUpdated = z.infer<typeof ReactionUpdatedSchema>;

/** One member's cursors in a room. */
export const ReceiptSchema = z.object({ roomId: IdSchema, userId: IdSchema, deliveredSeq: SeqSchema, readSeq: SeqSchema });
export type Receipt = z.infer<typeof ReceiptSchema>;

/**
 * `receipts`: the members of one room whose cursors moved within one coalescing window on one node (at most
 * one such event per room per node per window).
 */
export const RoomReceiptSchema = ReceiptSchema.omit({ roomId: true });
export type RoomReceipt = z.infer<typeof RoomReceiptSchema>;
export const ReceiptsSchema = z.object({ roomId: IdSchema, receipts: z.array(RoomReceiptSchema).min(1) });
export type Receipts = z.infer<typeof ReceiptsSchema>;

export const TypingEventSchema = z.object({ roomId: IdSchema, userId: IdSchema, typing: z.boolean() });
export type TypingEvent = z.infer<typeof TypingEventSchema>;

export const RoomJoinedSchema = z.object({ room: RoomSchema });
export type RoomJoined = z.infer<typeof RoomJoinedSchema>;

/** The room's name or topic changed (to every member). */
export const RoomUpdatedSchema = z.object({ room: RoomSchema });
export type RoomUpdated = z.infer<typeof RoomUpdatedSchema>;
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

/** Every server → client event and its payload, once; `ServerToClientEvents` and the name list derive from it. */
export const SERVER_EVENT_TABLE = {
  hello: HelloSchema,
  'message:new': MessageSchema,
  'message:updated': MessageSchema,
  'reaction:updated': ReactionUpdatedSchema,
  receipts: ReceiptsSchema,
  typing: TypingEventSchema,
  presence: PresenceSchema,
  'room:joined': RoomJoinedSchema,
  'room:left': RoomLeftSchema,
  'room:updated': RoomUpdatedSchema,
  'member:joined': MemberJoinedSchema,
  'member:left': MemberLeftSchema,
  'member:updated': MemberUpdatedSchema,
  'server:draining': DrainingSchema,
} as const satisfies Record<string, z.ZodType>;

export type ServerEventName = keyof typeof SERVER_EVENT_TABLE;

export const SERVER_EVENTS = Object.keys(SERVER_EVENT_TABLE) as ServerEventName[];

/** Server → client events. */
export type ServerToClientEvents = {
  [E in ServerEventName]: (payload: z.output<(typeof SERVER_EVENT_TABLE)[E]>) => void;
};
