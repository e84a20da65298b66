/**
 * A stack of teardown steps. The benchmark starts real processes (PostgreSQL) and servers; whatever way
 * the run ends (success, error, Ctrl-C) each of them is stopped exactly once, newest first, because later
 * resources depend on earlier ones (a node on its database, a database on its server).
 */
export class Cleanups {
  private readonly steps: { name: string; fn: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;

  /** Registers `fn`; returns a function that runs it now (and removes it from the stack). */
  add(name: string, fn: () => Promise<void>): () => Promise<void> {
    const step = { name, fn };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await fn();
    };
  }

  /** Runs every step; a second call (a signal during the normal teardown) joins the first. */
  runAll(log: (message: string) => void): Promise<void> {
    this.running ??= this.drain(log).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(log: (message: string) => void): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.fn();
      } catch (err) {
        log(`cleanup "${step.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
