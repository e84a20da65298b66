import type { DB, Kysely } from '@chat/db';
import type { ChatServer, ChatSocket } from '../../socket/types';

/**
 * Sockets outlive the access token they were admitted with (issue 9, item 3): once that token would have
 * expired, the node checks the socket's session again, so a session revoked or expired without the
 * broadcast that should have disconnected its sockets (a cut cluster bus, a revocation written by another
 * tool) loses them within one token lifetime plus one sweep. One sweep per node checks every socket that is
 * due with one query (their distinct session ids); a socket whose session is still active is due again a
 * token lifetime later. A socket of an ended session is disconnected; its client's reconnect is refused
 * UNAUTHORIZED and its refresh fails, which is how the SDK learns that the session is over.
 */
export class SessionRecheck {
  private readonly dueAt = new WeakMap<ChatSocket, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly io: ChatServer,
    private readonly db: Kysely<DB>,
    private readonly ttlMs: number,
    private readonly onSwept: (result: { active: number; ended: number }) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.sweep().catch(onError), Math.min(30_000, Math.max(1000, ttlMs / 4)));
    this.timer.unref();
  }

  /** A socket admitted now: its token expires at the latest a lifetime from now. */
  admitted(socket: ChatSocket): void {
    this.dueAt.set(socket, Date.now() + this.ttlMs);
  }

  async sweep(): Promise<void> {
    const now = Date.now();
    const due = [...this.io.of('/').sockets.values()].filter((s) => (this.dueAt.get(s) ?? Infinity) <= now);
    if (due.length === 0) return;
    const sessionIds = [...new Set(due.map((s) => s.data.sessionId))];
    const active = new Set<string>();
    for (let i = 0; i < sessionIds.length; i += 1000) {
      const rows = await this.db
        .selectFrom('sessions')
        .select('id')
        .where('id', 'in', sessionIds.slice(i, i + 1000))
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .execute();
      for (const r of rows) active.add(r.id);
    }
    let ended = 0;
    for (const socket of due) {
      if (active.has(socket.data.sessionId)) {
        this.dueAt.set(socket, now + this.ttlMs);
      } else {
        ended++;
        socket.disconnect(true);
      }
    }
    this.onSwept({ active: due.length - ended, ended });
  }

  close(): void {
    clearInterval(this.timer);
  }
}
