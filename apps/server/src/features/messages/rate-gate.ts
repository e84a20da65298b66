/**
 * Whether a stream of events (sends through a node) runs at `minRate` a second or more, with a margin: once
 * open, the gate stays open down to half of it, so a rate near the threshold does not flip a decision from
 * one batch to the next. Two uses: a node's batches go to the cluster's writer only while it is busy
 * (features/messages/send-writer.ts), and batches are spaced by `GROUP_COMMIT_MIN_INTERVAL_MS` only under
 * load (features/messages/group-commit.ts).
 *
 * Events are counted in fixed one-second windows; the rate is the larger of the last whole window and the
 * one under way, so a burst counts at once and a whole quiet second passes before the rate drops. A
 * `minRate` of 0 keeps the gate open.
 */
export class RateGate {
  private window = 0;
  private current = 0;
  private previous = 0;
  private opened = false;

  constructor(
    private readonly minRate: number,
    private readonly now: () => number,
  ) {}

  /** One event. */
  count(): void {
    this.roll();
    this.current++;
  }

  /** True while the rate is at `minRate` (or, once open, at half of it). */
  open(): boolean {
    this.roll();
    const rate = Math.max(this.previous, this.current);
    this.opened = rate >= (this.opened ? this.minRate / 2 : this.minRate);
    return this.opened;
  }

  private roll(): void {
    const window = Math.floor(this.now() / 1000);
    if (window === this.window) return;
    this.previous = window === this.window + 1 ? this.current : 0;
    this.current = 0;
    this.window = window;
  }
}
