import type { ClientToServerEvents, ServerToClientEvents } from '@chat/protocol';
import type { Server, Socket } from 'socket.io';
import type { ClusterEvents } from '../infra/cluster-bus';
import type { HandshakeChange } from './handshaking-sockets';

/** What the handshake establishes about a socket; set by the auth middleware, read by every feature. */
export interface SocketData {
  userId: string;
  sessionId: string;
  username: string;
  displayName: string;
  /** Rooms and their last seq at connect time, for `hello` (emptied once it is sent). */
  rooms: { roomId: string; lastSeq: number }[];
  /** Channel changes made while the handshake's steps run, made again after them (socket/handshaking-sockets.ts). */
  handshakeChanges?: HandshakeChange[] | undefined;
}

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>;
