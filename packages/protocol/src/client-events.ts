import { z } from 'zod';
import type { Ack } from './acks';
import { NoAckFields } from './acks';
import { MessageSchema, PresenceSchema } from './entities';
import { LIMITS } from './limits';
import { ContentSchema, EmojiSchema, IdSchema, MessageIdSchema, SeqSchema } from './primitives';

/** Payloads of client → server events. Each event takes an acknowledgement callback. */

export const SendMessageSchema = z.object({
  id: MessageIdSchema,
  roomId: IdSchema,
  content: ContentSchema,
  replyTo: MessageIdSchema.optional(),
  /** Ids of files this sender uploaded to this room for this message id (POST /api/rooms/:roomId/files). */
  attachments: z.array(MessageIdSchema).min(1).max(LIMITS.attachmentsPerMessage).optional(),
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

/** The fields of `{ok: true, ...}` for events that answer more than `ok`. */
const MessageAck = z.object({ message: MessageSchema });
const SyncAck = z.object({ rooms: z.array(SyncRoomResultSchema) });
const PresenceAck = z.object({ presence: z.array(PresenceSchema) });

interface ClientEventSpec {
  /** What the server validates every payload against (VALIDATION, nothing changed, on mismatch). */
  payload: z.ZodType;
  /** The fields of a successful acknowledgement, beside `ok: true`. */
  ack: z.ZodObject;
  /** Whether a success changes stored state: the sender's next read must then see it (read-your-writes). */
  writes: boolean;
  /**
   * Whether the client may send it without an acknowledgement callback (fire and forget): it is handled
   * the same, and a refusal is only counted on the server. For cumulative or ephemeral signals (receipts,
   * typing), where an answer per event would cost a socket write each and tell the client nothing it acts on.
   */
  ackOptional: boolean;
}

/**
 * Every client → server event, once: its payload, its acknowledgement and whether it writes. The event
 * maps, the validation table, the name list and the acknowledgement types below are derived from it.
 */
export const CLIENT_EVENT_TABLE = {
  'message:send': { payload: SendMessageSchema, ack: MessageAck, writes: true, ackOptional: false },
  'message:edit': { payload: EditMessageSchema, ack: MessageAck, writes: true, ackOptional: false },
  'message:delete': { payload: DeleteMessageSchema, ack: NoAckFields, writes: true, ackOptional: false },
  'reaction:add': { payload: ReactionSchema, ack: NoAckFields, writes: true, ackOptional: false },
  'reaction:remove': { payload: ReactionSchema, ack: NoAckFields, writes: true, ackOptional: false },
  sync: { payload: SyncRequestSchema, ack: SyncAck, writes: false, ackOptional: false },
  'message:delivered': { payload: CursorSchema, ack: NoAckFields, writes: true, ackOptional: true },
  'message:read': { payload: CursorSchema, ack: NoAckFields, writes: true, ackOptional: true },
  typing: { payload: TypingSchema, ack: NoAckFields, writes: false, ackOptional: true },
  'presence:get': { payload: PresenceGetSchema, ack: PresenceAck, writes: false, ackOptional: false },
} as const satisfies Record<string, ClientEventSpec>;

type Table = typeof CLIENT_EVENT_TABLE;
export type ClientEventName = keyof Table;

/** The client → server event names, for code that iterates over them (binding handlers, fuzzing). */
export const CLIENT_EVENTS = Object.keys(CLIENT_EVENT_TABLE) as ClientEventName[];

/** What a client sends (before the schema's defaults and caps). */
export type ClientEventInput<E extends ClientEventName> = z.input<Table[E]['payload']>;
/** The validated payload a server handler receives. */
export type ClientEventPayload<E extends ClientEventName> = z.output<Table[E]['payload']>;
/** The fields of a successful acknowledgement (`{}` for events that answer only `ok`). */
export type ClientEventAck<E extends ClientEventName> = AckFields<z.output<Table[E]['ack']>>;
// `z.object({})` infers Record<string, never>, which no `{ok: true}` could satisfy.
type AckFields<T> = string extends keyof T ? object : T;

/** Client → server events, typed for `socket.io` and `socket.io-client` alike. */
/** Events a client may send without an acknowledgement (`ackOptional` in the table). */
export type AckOptionalEvent = { [E in ClientEventName]: Table[E]['ackOptional'] extends true ? E : never }[ClientEventName];

export type ClientToServerEvents = {
  [E in ClientEventName]: Table[E]['ackOptional'] extends true
    ? (payload: ClientEventInput<E>, ack?: (response: Ack<ClientEventAck<E>>) => void) => void
    : (payload: ClientEventInput<E>, ack: (response: Ack<ClientEventAck<E>>) => void) => void;
};
