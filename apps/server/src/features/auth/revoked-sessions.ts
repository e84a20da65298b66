import { sessionChannel } from '@chat/protocol';
import type { ClusterBus } from '../../infra/cluster-bus';
import type { ChatServer } from '../../socket/types';

/**
 * Sessions revoked (logout, refresh-token reuse) whose access tokens may still be alive. Access tokens are
 * stateless and short-lived, so HTTP refuses a revoked session's tokens from this list, kept for one
 * access-token lifetime; every other node is told at once through the cluster bus. Socket handshakes check
 * the database instead, and the session's sockets are disconnected on every node through the adapter.
 */
export class RevokedSessions {
  private readonly until = new Map<string, number>();
  private readonly prune: NodeJS.Timeout;

  constructor(
    private readonly ttlMs: number,
    private readonly bus: ClusterBus,
    private readonly io: ChatServer,
  ) {
    bus.subscribe('session:revoked', (sessionId) => this.remember(sessionId));
    this.prune = setInterval(() => {
      const now = Date.now();
      for (const [id, until] of this.until) if (until < now) this.until.delete(id);
    }, 60_000).unref();
  }

  has(sessionId: string): boolean {
    return this.until.has(sessionId);
  }

  revoke(sessionId: string): void {
    this.remember(sessionId);
    this.bus.publish('session:revoked', sessionId);
    this.io.in(sessionChannel(sessionId)).disconnectSockets(true);
  }

  close(): void {
    clearInterval(this.prune);
  }

  private remember(sessionId: string): void {
    this.until.set(sessionId, Date.now() + this.ttlMs);
  }
}
