/**
 * Loads the values of a batch of keys: one result per input, in order. An `Error` in the array fails only
 * that key; a rejected promise fails the whole batch.
 */
export type BatchLoader<P, V> = (params: readonly P[]) => Promise<readonly (V | Error)[]>;

export interface SingleFlightOptions<P> {
  /** The full identity of a read: callers with equal keys share one load. */
  keyOf: (params: P) => string;
  /** At most this many keys per loader call; a bigger backlog is split into several calls. */
  maxBatch?: number;
}

interface Flight<P, V> {
  params: P;
  promise: Promise<V>;
  resolve: (value: V) => void;
  reject: (reason: unknown) => void;
}

/**
 * Merges identical reads on one node (DESIGN.md, "Thundering herd"): every caller asking for the same key
 * while a load for it is pending gets that one load's result, and the keys gathered within one turn of the
 * event loop go to the loader together (so sync can fetch many rooms in one query).
 *
 * Unlike a plain single-flight, a caller never joins a load that was already sent to the database when it
 * arrived: that load's snapshot may predate a write the caller has had acknowledged (read-your-writes), or
 * a message committed just before the caller's socket joined its room (sync would then miss it for good).
 * Instead it waits for the next load of that key, which starts as soon as the running one settles. So a
 * key has at most one load running and one gathering callers: under a herd, one query per key per query
 * duration, and every answer comes from a query that started after its caller asked.
 *
 * Errors reach every caller of the failed load and are not remembered: the next call loads again.
 * Results are shared between callers; treat them as read-only.
 */
export class SingleFlight<P, V> {
  /** Callers waiting for a load that has not started yet. */
  private readonly gathering = new Map<string, Flight<P, V>>();
  /** Keys whose load is running. */
  private readonly running = new Set<string>();
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly load: BatchLoader<P, V>,
    private readonly options: SingleFlightOptions<P>,
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? Number.POSITIVE_INFINITY);
  }

  run(params: P): Promise<V> {
    const key = this.options.keyOf(params);
    const pending = this.gathering.get(key);
    if (pending) return pending.promise;
    let resolve!: (value: V) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<V>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.gathering.set(key, { params, promise, resolve, reject });
    if (!this.running.has(key)) this.schedule();
    return promise;
  }

  /** Dispatch after the current turn of the event loop, so simultaneous callers share one load. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    let batch: [string, Flight<P, V>][] = [];
    for (const entry of this.gathering) {
      if (this.running.has(entry[0])) continue;
      batch.push(entry);
      if (batch.length === this.maxBatch) {
        this.start(batch);
        batch = [];
      }
    }
    if (batch.length > 0) this.start(batch);
  }

  private start(batch: [string, Flight<P, V>][]): void {
    for (const [key] of batch) {
      this.gathering.delete(key);
      this.running.add(key);
    }
    const settle = (index: number, outcome: V | Error | undefined, missing: boolean): void => {
      const flight = batch[index]![1];
      if (missing) flight.reject(new Error('single-flight loader returned fewer results than keys'));
      else if (outcome instanceof Error) flight.reject(outcome);
      else flight.resolve(outcome as V);
    };
    Promise.resolve()
      .then(() => this.load(batch.map(([, flight]) => flight.params)))
      .then(
        (results) => batch.forEach((_, i) => settle(i, results[i], i >= results.length)),
        (err: unknown) => batch.forEach(([, flight]) => flight.reject(err)),
      )
      .finally(() => {
        let waiting = false;
        for (const [key] of batch) {
          this.running.delete(key);
          waiting ||= this.gathering.has(key);
        }
        if (waiting) this.schedule();
      });
  }
}
