/**
 * A FIFO mutex: `acquire()` resolves when every earlier holder has called `release()`.
 *
 * Used to hand PGlite's one backend session to one Kysely consumer at a time; a plain promise chain keeps
 * the order of arrival, so a burst of queries cannot starve an open transaction waiting for its COMMIT.
 */
export class ExclusiveLock {
  #tail: Promise<void> = Promise.resolve();
  #releaseCurrent: (() => void) | undefined;

  async acquire(): Promise<void> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.#releaseCurrent = release;
  }

  release(): void {
    const release = this.#releaseCurrent;
    if (!release) throw new Error('ExclusiveLock.release() called while the lock is not held');
    this.#releaseCurrent = undefined;
    release();
  }
}
