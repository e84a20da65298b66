import type { Message, Presence } from './entities';
import type {
  Ack,
  Cursor,
  DeleteMessage,
  Draining,
  EditMessage,
  Hello,
  MemberJoined,
  MemberLeft,
  MemberUpdated,
  PresenceGet,
  Reaction,
  ReactionUpdated,
  Receipt,
  RoomJoined,
  RoomLeft,
  SendMessage,
  SyncRequest,
  SyncRoomResult,
  Typing,
  TypingEvent,
} from './socket';

type Handler<P, R extends object = object> = (payload: P, ack: (response: Ack<R>) => void) => void;

/** Client → server events, typed for `socket.io` and `socket.io-client` alike. */
export interface ClientToServerEvents {
  'message:send': Handler<SendMessage, { message: Message }>;
  'message:edit': Handler<EditMessage, { message: Message }>;
  'message:delete': Handler<DeleteMessage>;
  'reaction:add': Handler<Reaction>;
  'reaction:remove': Handler<Reaction>;
  sync: Handler<SyncRequest, { rooms: SyncRoomResult[] }>;
  'message:delivered': Handler<Cursor>;
  'message:read': Handler<Cursor>;
  typing: Handler<Typing>;
  'presence:get': Handler<PresenceGet, { presence: Presence[] }>;
}

/** Server → client events. */
export interface ServerToClientEvents {
  hello: (payload: Hello) => void;
  'message:new': (payload: Message) => void;
  'message:updated': (payload: Message) => void;
  'reaction:updated': (payload: ReactionUpdated) => void;
  receipt: (payload: Receipt) => void;
  typing: (payload: TypingEvent) => void;
  presence: (payload: Presence) => void;
  'room:joined': (payload: RoomJoined) => void;
  'room:left': (payload: RoomLeft) => void;
  'member:joined': (payload: MemberJoined) => void;
  'member:left': (payload: MemberLeft) => void;
  'member:updated': (payload: MemberUpdated) => void;
  'server:draining': (payload: Draining) => void;
}

export type ClientEventName = keyof ClientToServerEvents;
export type ServerEventName = keyof ServerToClientEvents;

/** The client → server event names, for code that iterates over them (validation, fuzzing). */
export const CLIENT_EVENTS = [
  'message:send',
  'message:edit',
  'message:delete',
  'reaction:add',
  'reaction:remove',
  'sync',
  'message:delivered',
  'message:read',
  'typing',
  'presence:get',
] as const satisfies readonly ClientEventName[];

/** Socket.IO room names used by the server. A socket is in `roomChannel(id)` exactly when its user is a member. */
export const roomChannel = (roomId: string): string => `room:${roomId}`;
export const userChannel = (userId: string): string => `user:${userId}`;
