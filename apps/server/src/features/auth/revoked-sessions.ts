import type { DB, Kysely } from '@chat/db';
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

  /**
   * After the cluster bus was cut: the sessions revoked in the last access-token lifetime, re-read from the
   * database (a scan of `sessions`, once per cut), are refused again on HTTP, and their sockets on this node
   * are disconnected (the adapter's disconnect may have been lost too).
   */
  async resync(db: Kysely<DB>): Promise<number> {
    const since = new Date(Date.now() - this.ttlMs);
    const rows = await db.selectFrom('sessions').select('id').where('revoked_at', '>', since).execute();
    for (const { id } of rows) {
      this.remember(id);
      this.io.local.in(sessionChannel(id)).disconnectSockets(true);
    }
    return rows.length;
  }

  close(): void {
    clearInterval(this.prune);
  }

  private remember(sessionId: string): void {
    this.until.set(sessionId, Date.now() + this.ttlMs);
  }
}
