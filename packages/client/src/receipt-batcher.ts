interface ReceiptBatcherOptions {
  /** One receipt on the wire: `ChatSocket.markDelivered` in the SDK. Failures are ignored. */
  send: (roomId: string, seq: number) => Promise<void>;
  /** Length of the window that collects cursors before they are sent; 0 or less sends nothing at all. */
  debounceMs: number;
}

/**
 * Coalesces delivery receipts: one receipt per room per debounce window, with the highest seq delivered in
 * it. Cursors are cumulative, so a receipt that fails (or is never sent, after `close`) is covered by the
 * next one, and nothing is retried here.
 */
export class ReceiptBatcher {
  private readonly pending = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly opts: ReceiptBatcherOptions;

  constructor(opts: ReceiptBatcherOptions) {
    this.opts = opts;
  }

  /** Messages up to `seq` in `roomId` were delivered to the app. */
  add(roomId: string, seq: number): void {
    if (this.opts.debounceMs <= 0 || this.closed) return;
    this.pending.set(roomId, Math.max(seq, this.pending.get(roomId) ?? 0));
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), this.opts.debounceMs);
  }

  /** Drops what is pending and sends nothing more. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private flush(): void {
    this.timer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [roomId, seq] of batch) {
      this.opts.send(roomId, seq).catch(() => undefined /* cursors are cumulative: the next one covers it */);
    }
  }
}
