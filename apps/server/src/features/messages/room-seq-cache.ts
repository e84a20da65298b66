import type { Database } from '@chat/db';

/**
 * The highest seq this node knows per room (from its own commits). Used to validate receipt cursors
 * without a query per event, and to tell whether a replica read may be behind what was acknowledged.
 */
export class RoomSeqCache {
  private readonly known = new Map<string, number>();

  constructor(private readonly db: Database) {}

  observe(roomId: string, seq: number): void {
    if (seq > (this.known.get(roomId) ?? 0)) this.known.set(roomId, seq);
  }

  peek(roomId: string): number {
    return this.known.get(roomId) ?? 0;
  }

  /** Whether `seq` exists in the room: the cache answers yes cheaply; a no is confirmed on the primary. */
  async covers(roomId: string, seq: number): Promise<boolean> {
    if (seq <= this.peek(roomId)) return true;
    const row = await this.db.primary.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst();
    if (!row) return false;
    this.observe(roomId, row.last_seq);
    return seq <= row.last_seq;
  }
}
