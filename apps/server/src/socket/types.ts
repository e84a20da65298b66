import type { ClientToServerEvents, ServerToClientEvents } from '@chat/protocol';
import type { Server, Socket } from 'socket.io';

/** What the handshake establishes about a socket; set by the auth middleware, read by every feature. */
export interface SocketData {
  userId: string;
  sessionId: string;
  username: string;
  displayName: string;
  /** Rooms and their last seq at connect time, for `hello`. */
  rooms: { roomId: string; lastSeq: number }[];
}

// Server-to-server events are not used: cross-node work goes through socket rooms and the adapter.
export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
