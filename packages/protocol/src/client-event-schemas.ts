import type { z } from 'zod';
import type { ClientEventName } from './events';
import {
  CursorSchema,
  DeleteMessageSchema,
  EditMessageSchema,
  PresenceGetSchema,
  ReactionSchema,
  SendMessageSchema,
  SyncRequestSchema,
  TypingSchema,
} from './socket';

/** The payload schema of every client → server event: the server validates each payload against it. */
export const CLIENT_EVENT_SCHEMAS = {
  'message:send': SendMessageSchema,
  'message:edit': EditMessageSchema,
  'message:delete': DeleteMessageSchema,
  'reaction:add': ReactionSchema,
  'reaction:remove': ReactionSchema,
  sync: SyncRequestSchema,
  'message:delivered': CursorSchema,
  'message:read': CursorSchema,
  typing: TypingSchema,
  'presence:get': PresenceGetSchema,
} as const satisfies Record<ClientEventName, z.ZodType>;

/** The validated (output) payload type of a client event. */
export type ClientEventPayload<E extends ClientEventName> = z.output<(typeof CLIENT_EVENT_SCHEMAS)[E]>;
