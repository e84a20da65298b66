/**
 * Which seqs of each room a simulated client has seen: one bit per seq, in a buffer that doubles as seqs
 * grow. A load driver simulates hundreds of clients that see the same number of messages at the same pace,
 * so per-client `Set`s of ids grew through the same sizes at the same moment and rehashed together: a
 * driver stalled for most of a second each time (at 1,024 messages a room, 36.6 s into a one-node run at
 * 2,800/s), which showed as a delivery tail of the server's (docs/performance.md, "The load driver's own
 * stall"). A bitmap grows by copying a few hundred bytes and never rehashes.
 */
export class SeqSet {
  private readonly rooms = new Map<string, Uint8Array>();

  /** Marks `seq` of `roomId` seen; true when it was not seen before. */
  add(roomId: string, seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`not a seq: ${seq}`);
    let bits = this.rooms.get(roomId);
    const byte = seq >>> 3;
    if (!bits || byte >= bits.length) {
      const grown = new Uint8Array(Math.max(64, 2 ** Math.ceil(Math.log2(byte + 1))));
      if (bits) grown.set(bits);
      bits = grown;
      this.rooms.set(roomId, bits);
    }
    const mask = 1 << (seq & 7);
    if (bits[byte]! & mask) return false;
    bits[byte]! |= mask;
    return true;
  }

  has(roomId: string, seq: number): boolean {
    const bits = this.rooms.get(roomId);
    const byte = seq >>> 3;
    return bits !== undefined && byte < bits.length && (bits[byte]! & (1 << (seq & 7))) !== 0;
  }
}
