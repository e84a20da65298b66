import type { Namespace, Socket } from 'socket.io';
import { MessageType } from 'socket.io-adapter';
import { roomChannel } from '@chat/protocol';
import type { ChatServer, ChatSocket } from './types';

/** A channel change made to a socket while it was in its handshake (kept to be made again at its end). */
export type HandshakeChange = { join: boolean; rooms: readonly string[] };

/** The sockets a change is for: by room (none: every socket), minus those in the `except` rooms. */
interface Selection {
  rooms: ReadonlySet<string>;
  except?: ReadonlySet<string> | undefined;
}

/** What this module touches of an adapter: its table and the three calls that change sockets. */
interface SocketChanges {
  rooms: Map<string, Set<string>>;
  addSockets(opts: Selection, rooms: string[]): unknown;
  delSockets(opts: Selection, rooms: string[]): unknown;
  disconnectSockets(opts: Selection, close: boolean): unknown;
}

/** A cluster adapter's message from another node (`ClusterAdapter.onMessage`; private in its types). */
interface ClusterMessage {
  uid: string;
  nsp: string;
  type: MessageType;
  data?: { opts?: { rooms?: string[]; except?: string[] }; rooms?: string[]; close?: boolean };
}

/**
 * Socket.IO applies `socketsJoin`, `socketsLeave` and `disconnectSockets` to connected sockets only: a socket
 * in its handshake (admitted, authenticated, its rooms being read) is skipped, on this node and when the call
 * comes from another node through the Redis adapter. A membership change made in that moment was missed by the
 * socket until its next connection: a room joined was not live on it, and, worse, a room left (or a kick) could
 * leave it in a channel its user no longer belongs to, when its rooms were read before the change committed.
 *
 * So the handshake is followed (`followHandshakes`): the user's and session's channels are joined before the
 * handshake's database read (features/auth), every change that selects a socket still in its handshake is made
 * to it as well, and recorded; once the handshake's steps are done, and its rooms joined from that read, the
 * recorded changes are made again in order (`settleHandshake`), so a change the read did not see still wins.
 * Making a change again is harmless: joining and leaving are idempotent and the order is kept. A disconnect
 * closes the handshaking socket's connection; its client connects again and is checked again. Tests in
 * `membership.handshake.test.ts`.
 */
export function followHandshakes(io: ChatServer): void {
  const nsp = io.of('/');
  const adapter = nsp.adapter as unknown as SocketChanges & { onMessage?: (message: ClusterMessage, offset?: string) => void; uid?: string };
  const add = adapter.addSockets.bind(adapter);
  const del = adapter.delSockets.bind(adapter);
  const disconnect = adapter.disconnectSockets.bind(adapter);
  adapter.addSockets = (opts, rooms) => {
    changeHandshaking(nsp, opts, { join: true, rooms });
    return add(opts, rooms);
  };
  adapter.delSockets = (opts, rooms) => {
    changeHandshaking(nsp, opts, { join: false, rooms });
    return del(opts, rooms);
  };
  adapter.disconnectSockets = (opts, close) => {
    changeHandshaking(nsp, opts, 'disconnect');
    return disconnect(opts, close);
  };
  // The cluster adapters (sharded) apply other nodes' calls through their in-memory base class, past the
  // methods above: those are read from the message here. (The classic adapter's requests: `followRemoteRequest`.)
  const onMessage = adapter.onMessage?.bind(adapter);
  if (onMessage) {
    adapter.onMessage = (message, offset) => {
      onMessage(message, offset);
      if (message.uid !== adapter.uid && message.nsp === nsp.name) followRemote(nsp, message.type, message.data);
    };
  }
}

// The classic adapter's request types (its `RequestType`) that change sockets, as the cluster adapter's messages.
const CLASSIC_REQUESTS = new Map<number, MessageType>([
  [2, MessageType.SOCKETS_JOIN],
  [3, MessageType.SOCKETS_LEAVE],
  [4, MessageType.DISCONNECT_SOCKETS],
]);

/** A request of the classic Redis adapter (JSON on its request channel): made to handshaking sockets too. */
export function followRemoteRequest(io: ChatServer, raw: Buffer): void {
  if (raw[0] !== 0x7b) return;
  let request: { type?: number; opts?: { rooms?: string[]; except?: string[] }; rooms?: string[] };
  try {
    request = JSON.parse(raw.toString()) as typeof request;
  } catch {
    return;
  }
  const type = CLASSIC_REQUESTS.get(request.type ?? -1);
  if (type !== undefined) followRemote(io.of('/'), type, request);
}

/** Another node's socketsJoin, socketsLeave or disconnectSockets (anything else, broadcasts first, passes at once). */
function followRemote(nsp: Namespace, type: MessageType, data: ClusterMessage['data']): void {
  const change =
    type === MessageType.SOCKETS_JOIN
      ? { join: true, rooms: data?.rooms ?? [] }
      : type === MessageType.SOCKETS_LEAVE
        ? { join: false, rooms: data?.rooms ?? [] }
        : type === MessageType.DISCONNECT_SOCKETS
          ? ('disconnect' as const)
          : undefined;
  if (change === undefined || !data?.opts) return;
  changeHandshaking(nsp, { rooms: new Set(data.opts.rooms ?? []), except: new Set(data.opts.except ?? []) }, change);
}

/** Makes a change to the selected sockets that are still in their handshake, and records it for them. */
function changeHandshaking(nsp: Namespace, opts: Selection, change: HandshakeChange | 'disconnect'): void {
  // Socket.IO's own table of sockets in their handshake (private in its types).
  const waiting = (nsp as unknown as { _preConnectSockets?: Map<string, Socket> })._preConnectSockets;
  if (!waiting || waiting.size === 0) return;
  const table = nsp.adapter.rooms;
  const except = new Set<string>();
  for (const room of opts.except ?? []) for (const id of table.get(room) ?? []) except.add(id);
  const selected = new Set<ChatSocket>();
  const consider = (id: string) => {
    const socket = waiting.get(id);
    if (socket && !except.has(id)) selected.add(socket as ChatSocket);
  };
  if (opts.rooms.size === 0) for (const id of waiting.keys()) consider(id);
  for (const room of opts.rooms) for (const id of table.get(room) ?? []) consider(id);
  for (const socket of selected) {
    if (change === 'disconnect') {
      socket.conn.close();
      continue;
    }
    applyChange(socket, change);
    socket.data.handshakeChanges?.push(change);
  }
}

function applyChange(socket: ChatSocket, change: HandshakeChange): void {
  if (change.join) void socket.join([...change.rooms]);
  else for (const room of change.rooms) void socket.leave(room);
}

/** Before the handshake's steps: changes made to the socket from now on are recorded. */
export function openHandshake(socket: ChatSocket): void {
  socket.data.handshakeChanges = [];
}

/**
 * After the handshake's steps (its rooms joined): the changes recorded meanwhile are made again, in order, and
 * `hello` will not list a room the socket has left meanwhile. (A room joined meanwhile is not listed: the client
 * learns of it from its first message, as of a `room:joined` it missed, which no handshaking socket receives.)
 */
export function settleHandshake(socket: ChatSocket): void {
  const changes = socket.data.handshakeChanges ?? [];
  // Not `delete`: a property deleted out of order turns the object into a dictionary, and `socket.data` is
  // read on every event.
  socket.data.handshakeChanges = undefined;
  if (changes.length === 0) return;
  for (const change of changes) applyChange(socket, change);
  socket.data.rooms = socket.data.rooms.filter((r) => socket.rooms.has(roomChannel(r.roomId)));
}
