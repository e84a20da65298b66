// Where a measured window's delivery tail came from: its messages grouped by the 100 ms slot they were sent
// in (the drivers count them, `SlotDeliveries`), reduced to the slots with deliveries over the ramp's bar.
import type { SlotDeliveries } from './driver-protocol';

const roundTo = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface SlowSlot {
  atSeconds: number;
  deliveries: number;
  slow: number;
  maxMs: number;
}

/** How many slots a measurement keeps: the worst by their slow deliveries. */
export const SLOW_SLOTS_KEPT = 12;

/** The slots with deliveries over the bar, the worst `SLOW_SLOTS_KEPT` of them, in time order from `windowStart` (epoch ms). */
export function slowSlots(slots: Record<string, SlotDeliveries>, windowStart: number): SlowSlot[] {
  return Object.entries(slots)
    .filter(([, d]) => d.slow > 0)
    .map(([slot, d]) => ({ atSeconds: roundTo((Number(slot) * 100 - windowStart) / 1000, 1), deliveries: d.count, slow: d.slow, maxMs: roundTo(d.maxMs, 0) }))
    .sort((a, b) => b.slow - a.slow)
    .slice(0, SLOW_SLOTS_KEPT)
    .sort((a, b) => a.atSeconds - b.atSeconds);
}
