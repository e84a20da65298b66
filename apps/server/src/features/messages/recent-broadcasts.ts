/**
 * Ids of the messages this node broadcast lately (the newest `capacity`, oldest forgotten first). A send
 * answered from the store (a retry of an id already committed) is broadcast again unless it is here: its
 * first commit may never have been broadcast — the node that committed it died between the commit and the
 * emit, and the client's retry reached another node — while a retry of a message this node announced
 * itself needs no second broadcast. Clients de-duplicate by id either way (PROTOCOL.md "Idempotency").
 * A Map keeps insertion order, so the oldest id is the first key: O(1) to add and to forget.
 */
export class RecentBroadcasts {
  private readonly ids = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
  }
}
