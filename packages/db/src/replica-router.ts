/**
 * Picks the replica for the next read.
 *
 * Round robin for now. Its own module because lag-aware selection (skip a replica that is down or too
 * far behind, fall back to the primary, expose that in metrics) grows here without touching callers.
 */
export interface ReplicaRouter<T> {
  /** The replica to use for the next read; never throws when there is at least one. */
  pick(): T;
  /** Every target, e.g. for closing or for health probes. */
  readonly all: readonly T[];
}

export function createRoundRobinRouter<T>(targets: readonly T[]): ReplicaRouter<T> {
  if (targets.length === 0) throw new Error('a replica router needs at least one target');
  let next = 0;
  return {
    all: targets,
    pick() {
      const target = targets[next % targets.length] as T;
      next = (next + 1) % targets.length;
      return target;
    },
  };
}
