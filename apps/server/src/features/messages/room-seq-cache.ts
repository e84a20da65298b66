/**
 * The highest seq this node knows per room (from its own commits and its syncs), to tell whether a replica
 * read may be behind what this node acknowledged.
 */
export class RoomSeqCache {
  private readonly known = new Map<string, number>();

  observe(roomId: string, seq: number): void {
    if (seq > (this.known.get(roomId) ?? 0)) this.known.set(roomId, seq);
  }

  peek(roomId: string): number {
    return this.known.get(roomId) ?? 0;
  }
}
