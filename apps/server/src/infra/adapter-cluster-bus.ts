import type { ChatServer } from '../socket/types';
import type { ClusterBus, ClusterEventName, ClusterEvents } from './cluster-bus';

/**
 * The cluster bus of cluster mode: Socket.IO's `serverSideEmit` through the Redis adapter, which reaches
 * every other node and not this one. It travels on the adapter's own Redis connection, so an event
 * published before a broadcast reaches each node before that broadcast (the read fence relies on it).
 */
export class AdapterClusterBus implements ClusterBus {
  private readonly resumeListeners: (() => void)[] = [];

  constructor(private readonly io: ChatServer) {}

  onResume(listener: () => void): void {
    this.resumeListeners.push(listener);
  }

  /** Called when the adapter's subscriber connection is ready again after it was lost. */
  resumed(): void {
    for (const listener of this.resumeListeners) listener();
  }

  publish<E extends ClusterEventName>(event: E, ...args: Parameters<ClusterEvents[E]>): void {
    (this.io.serverSideEmit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
  }

  subscribe<E extends ClusterEventName>(event: E, handler: ClusterEvents[E]): void {
    (this.io.on as (event: string, handler: (...args: never[]) => void) => void)(event, handler);
  }
}
