import type { RoomReceipt } from '@chat/protocol';

/**
 * What one node tells all the others. Most cross-node work travels through Socket.IO rooms (broadcasts,
 * `socketsJoin`, `disconnectSockets`); these are the node-level facts that have no socket to go to.
 */
export interface ClusterEvents {
  /** A session was revoked: refuse its access tokens on HTTP at once. */
  'session:revoked': (sessionId: string) => void;
  /** Read-your-writes fence: these users must read nothing older than this primary WAL position. */
  'reads:fence': (userIds: string[], lsn: string) => void;
  /** Read fence for rooms: something their members were told about changed; read nothing older than this position. */
  'reads:room-fence': (roomIds: string[], lsn: string) => void;
  /** A timeout was set in a room: drop the cached timeouts of that room so sends see it at once. */
  'moderation:timeouts': (roomId: string) => void;
  /** Delivered/read cursors a node wrote in its last receipt window, for the other nodes' sockets. */
  'receipts:moved': (rooms: { roomId: string; receipts: RoomReceipt[] }[]) => void;
  /** A user changed their display name: this node's sockets of the user send under the new one. */
  'users:renamed': (userId: string, displayName: string) => void;
  /** An operator dropped every socket of the cluster (/ops/sockets/drop): close this node's connections. */
  'ops:drop-sockets': () => void;
}

export type ClusterEventName = keyof ClusterEvents;

/**
 * The node-to-node channel. `publish` reaches the subscribers of every other node, never the publisher's
 * own (a node applies its own change before telling the others), in the order published. Implementations:
 * `MemoryClusterBus` (embedded mode: one node, nobody to tell) and `AdapterClusterBus` (cluster mode:
 * Socket.IO's `serverSideEmit` through the Redis adapter). Chosen once, in infra/mode.ts.
 */
export interface ClusterBus {
  publish<E extends ClusterEventName>(event: E, ...args: Parameters<ClusterEvents[E]>): void;
  subscribe<E extends ClusterEventName>(event: E, handler: ClusterEvents[E]): void;
  /**
   * After the node was cut off from the others (its Pub/Sub connection to Redis dropped and came back):
   * what was published meanwhile, by this bus or by Socket.IO through the adapter (room joins and leaves,
   * disconnects), may never arrive. Listeners re-read from the database what they keep in step through the
   * bus. Never called in embedded mode, where nothing can be cut.
   */
  onResume(listener: () => void): void;
}
