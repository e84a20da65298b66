import type { FlagValues } from '../scenario';
import type { Measurement } from './chat-load';
import type { TargetKind } from './load-target';
import { MACHINE_GROUP } from './process-usage';

/** `--against`: which targets a scenario measures, in order; `both` (default) gives ratios from one run. */
export const AGAINST_OPTION = { against: { type: 'string' as const } };
export const AGAINST_USAGE =
  '--against <both>        both | chat | ceiling: our nodes, the bare Socket.IO ceiling on the same topology, or both (ratios)';

export function targetsOf(flags: FlagValues): TargetKind[] {
  const value = flags.against ?? 'both';
  if (value === 'both') return ['chat', 'ceiling'];
  if (value === 'chat' || value === 'ceiling') return [value];
  throw new Error(`--against must be both, chat or ceiling, got "${String(value)}"`);
}

export const TARGET_LABEL: Record<TargetKind, string> = { chat: 'chat', ceiling: 'ceiling' };

/** CPU of every server-side process (nodes, PostgreSQL, Redis, NGINX), 100 = one core. */
function serverCpuPercent(m: Measurement): number {
  return Object.entries(m.usage)
    .filter(([name]) => name !== MACHINE_GROUP && name !== 'load drivers')
    .reduce((sum, [, u]) => sum + u.cpuPercent, 0);
}

/** Server-side CPU milliseconds per acknowledged message (all processes but the load drivers). */
export function cpuMsPerMessage(m: Measurement): number {
  return m.ackedPerSecond > 0 ? Math.round((serverCpuPercent(m) * 10 * 1000) / m.ackedPerSecond) / 1000 : Number.NaN;
}
