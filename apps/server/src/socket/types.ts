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

/**
 * Node-to-node events (`io.serverSideEmit`, through the Redis adapter; not available on the in-memory
 * adapter of embedded mode). Most cross-node work goes through socket rooms instead.
 */
export interface InterServerEvents {
  /** A session was revoked: refuse its access tokens on HTTP at once on every node. */
  'session:revoked': (sessionId: string) => void;
  /** Read-your-writes fence: these users must read nothing older than this primary WAL position. */
  'reads:fence': (userIds: string[], lsn: string) => void;
  /** A timeout was set in a room: drop the cached timeouts of that room so sends see it at once. */
  'moderation:timeouts': (roomId: string) => void;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
