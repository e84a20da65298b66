export { type AckOf, type AckOptions, type PayloadOf } from './ack-sender';
export { nextDelay, type BackoffOptions } from './backoff';
export { chatErrorFrom, isNotAnswered, isTransient, notAnswered } from './chat-errors';
export { ChatSocket, type ChatSocketEvents, type ChatSocketOptions } from './chat-socket';
export { type ConnectionState, type ConnectionStatus } from './connection';
export { Emitter } from './emitter';
export { HttpApi, type AuditLogResponse, type HttpApiOptions, type JoinRequestsResponse, type JoinResult } from './http-api';
export { MessageSequencer } from './message-sequencer';
export {
  MemoryOutboxStorage,
  Outbox,
  type OutboxDraft,
  type OutboxEvents,
  type OutboxItem,
  type OutboxOptions,
  type OutboxState,
  type OutboxStorage,
} from './outbox';
export { ReconnectPolicy, type ReconnectCause, type ReconnectPolicyOptions, type RetryPlan } from './reconnect-policy';
export { Session, type AuthApi, type SessionOptions } from './session';
export { staticToken, type TokenProvider, type Tokens } from './tokens';
