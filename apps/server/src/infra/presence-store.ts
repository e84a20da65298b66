export interface PresenceState {
  online: boolean;
  lastSeen?: Date;
}

/**
 * Who is online. A user is online while at least one socket of theirs is connected to any node.
 * Implementations: in-process memory (embedded, one node); Redis with per-node heartbeats (cluster).
 */
export interface PresenceStore {
  /** Records a connected socket; true when this made the user come online. */
  add(userId: string, socketId: string): Promise<boolean>;
  /** Forgets a socket; wentOffline when it was the user's last one. */
  remove(userId: string, socketId: string): Promise<{ wentOffline: boolean; lastSeen: Date }>;
  get(userIds: readonly string[]): Promise<Map<string, PresenceState>>;
  /** The user's connected sockets on live nodes (the cap on sockets per user counts these). */
  socketCount(userId: string): Promise<number>;
  /**
   * Cleans up after other nodes that died without removing their sockets; returns the users that this left
   * with no live socket (so their rooms can be told). One process only: nothing to sweep.
   */
  sweep(): Promise<string[]>;
  close(): Promise<void>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly sockets = new Map<string, Set<string>>();
  private readonly lastSeen = new Map<string, Date>();

  async add(userId: string, socketId: string): Promise<boolean> {
    let set = this.sockets.get(userId);
    if (!set) this.sockets.set(userId, (set = new Set()));
    const cameOnline = set.size === 0;
    set.add(socketId);
    return cameOnline;
  }

  async remove(userId: string, socketId: string): Promise<{ wentOffline: boolean; lastSeen: Date }> {
    const set = this.sockets.get(userId);
    const now = new Date();
    if (!set || !set.delete(socketId)) return { wentOffline: false, lastSeen: now };
    if (set.size > 0) return { wentOffline: false, lastSeen: now };
    this.sockets.delete(userId);
    this.lastSeen.set(userId, now);
    return { wentOffline: true, lastSeen: now };
  }

  async get(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    for (const id of userIds) {
      const online = (this.sockets.get(id)?.size ?? 0) > 0;
      const seen = this.lastSeen.get(id);
      out.set(id, online || !seen ? { online } : { online, lastSeen: seen });
    }
    return out;
  }

  async socketCount(userId: string): Promise<number> {
    return this.sockets.get(userId)?.size ?? 0;
  }

  async sweep(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {
    this.sockets.clear();
  }
}
