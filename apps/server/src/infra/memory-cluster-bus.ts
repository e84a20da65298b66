import { EventEmitter } from 'node:events';
import type { ClusterBus, ClusterEventName, ClusterEvents } from './cluster-bus';

/**
 * The cluster bus of embedded mode: the nodes on one in-process hub. A node built alone gets a hub of its
 * own, so what it publishes reaches nobody, as there is nobody to tell; the contract suite puts several
 * buses on one hub to check they behave as the Redis one does (others only, in order, asynchronously).
 */
export class MemoryClusterBus implements ClusterBus {
  private readonly local = new EventEmitter();

  constructor(private readonly hub: Set<MemoryClusterBus> = new Set()) {
    hub.add(this);
  }

  publish<E extends ClusterEventName>(event: E, ...args: Parameters<ClusterEvents[E]>): void {
    for (const node of this.hub) {
      if (node !== this) queueMicrotask(() => node.local.emit(event, ...args));
    }
  }

  subscribe<E extends ClusterEventName>(event: E, handler: ClusterEvents[E]): void {
    this.local.on(event, handler);
  }

  onResume(): void {
    // One process: nothing between the nodes of a hub can be cut.
  }

  /** Leaves the hub: nothing more is delivered to this node. */
  close(): void {
    this.hub.delete(this);
    this.local.removeAllListeners();
  }
}
