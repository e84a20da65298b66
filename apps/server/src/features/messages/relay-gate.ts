/**
 * Whether a node's batches of sends go to the cluster's writer (features/messages/send-writer.ts): from
 * `minRate` sends a second through this node on, and until the rate falls below half of it. Below that a
 * node's batches are single sends, which the writer would merge with nothing and delay by two hops; the
 * margin keeps a rate near the threshold from switching routes from one batch to the next.
 *
 * Sends are counted in fixed one-second windows; the rate is the larger of the last whole window and the
 * one under way, so a burst counts at once and a whole quiet second passes before the rate drops.
 */
export class RelayGate {
  private window = 0;
  private current = 0;
  private previous = 0;
  private relaying = false;

  constructor(
    private readonly minRate: number,
    private readonly now: () => number,
  ) {}

  /** One send through this node. */
  count(): void {
    this.roll();
    this.current++;
  }

  /** True when this batch goes to the writer. */
  relay(): boolean {
    this.roll();
    const rate = Math.max(this.previous, this.current);
    this.relaying = rate >= (this.relaying ? this.minRate / 2 : this.minRate);
    return this.relaying;
  }

  private roll(): void {
    const window = Math.floor(this.now() / 1000);
    if (window === this.window) return;
    this.previous = window === this.window + 1 ? this.current : 0;
    this.current = 0;
    this.window = window;
  }
}
