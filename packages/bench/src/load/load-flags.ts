import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { FlagValues } from '../scenario';

/** A numeric flag of a load scenario, with its default for a full run and for `--quick`. */
export interface NumberFlag {
  flag: string;
  full: number;
  quick: number;
  help: string;
  integer?: boolean;
  /** Smallest accepted value; default: greater than 0. */
  min?: number;
}

/** Flags every load scenario takes besides its numbers. */
const TARGET_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  quick: { type: 'boolean' },
  url: { type: 'string' },
  'node-pids': { type: 'string' },
  'keep-logs': { type: 'boolean' },
  'cpu-prof': { type: 'string' },
  'driver-cpu-prof': { type: 'string' },
  'heap-prof': { type: 'string' },
  'node-env': { type: 'string' },
  'node-args': { type: 'string' },
};

export const TARGET_USAGE = [
  '--quick                small and short: proves the path end to end; its numbers are noisy',
  '--url <entry>          use a running cluster (`pnpm cluster`) instead of starting one',
  '--node-pids <a,b,…>    with --url: PIDs of its nodes, to report their CPU and memory',
  '--keep-logs            copy the cluster\'s logs to .bench/logs/ before stopping it',
  '--cpu-prof <dir>       each node writes a V8 CPU profile of each measured window there (summarise: pnpm bench-profile <dir>)',
  '--heap-prof <dir>      each node writes a V8 sampling heap profile of each measured window there, freed objects included (where allocations come from; pnpm bench-profile <dir>)',
  '--driver-cpu-prof <dir> each load driver writes a V8 CPU profile of its whole life there when it exits (the SDK\'s side)',
  '--node-env K=V,K=V     extra environment for our nodes (A/B of a setting, e.g. GROUP_COMMIT_MIN_INTERVAL_MS=4)',
  '--node-args="<flags>" extra Node.js/V8 flags for our nodes, space-separated, after an = (A/B of flags NODE_OPTIONS refuses, e.g. --node-args=--single-threaded-gc)',
];

export function optionsFor(specs: readonly NumberFlag[], extra: NonNullable<ParseArgsConfig['options']> = {}): NonNullable<ParseArgsConfig['options']> {
  return { ...TARGET_OPTIONS, ...extra, ...Object.fromEntries(specs.map((s) => [s.flag, { type: 'string' as const }])) };
}

export function usageFor(specs: readonly NumberFlag[]): string[] {
  return specs.map((s) => `${`--${s.flag} <${s.full}${s.quick !== s.full ? `; quick ${s.quick}` : ''}>`.padEnd(33)} ${s.help}`);
}

/** The numbers of a run: each flag's value, or its default for a full or a quick run. */
export function readNumbers<K extends string>(flags: FlagValues, specs: readonly (NumberFlag & { key: K })[]): Record<K, number> {
  const quick = flags.quick === true;
  const out = {} as Record<K, number>;
  for (const s of specs) {
    const raw = flags[s.flag];
    const value = raw === undefined ? (quick ? s.quick : s.full) : Number(raw);
    const min = s.min ?? Number.MIN_VALUE;
    if (!Number.isFinite(value) || value < min || (s.integer && !Number.isInteger(value))) {
      throw new Error(`--${s.flag} must be ${s.integer ? 'an integer' : 'a number'} ≥ ${s.min ?? '> 0'}, got "${String(raw)}"`);
    }
    out[s.key] = value;
  }
  return out;
}

export function targetFlags(flags: FlagValues): {
  url: string | undefined;
  nodePids: number[] | undefined;
  keepLogs: boolean;
  profileDir?: string;
  heapProfileDir?: string;
  driverProfileDir?: string;
  nodeEnv?: Record<string, string>;
  nodeArgs?: string[];
} {
  const url = typeof flags.url === 'string' ? flags.url : undefined;
  const pids = typeof flags['node-pids'] === 'string' ? flags['node-pids'].split(',').map((p) => Number(p.trim())) : undefined;
  if (pids?.some((p) => !Number.isInteger(p) || p <= 0)) throw new Error('--node-pids must be comma-separated PIDs');
  if (pids && !url) throw new Error('--node-pids goes with --url');
  const profileDir = typeof flags['cpu-prof'] === 'string' ? path.resolve(flags['cpu-prof']) : undefined;
  if (profileDir && url) throw new Error('--cpu-prof needs nodes started by the run (not --url)');
  const heapProfileDir = typeof flags['heap-prof'] === 'string' ? path.resolve(flags['heap-prof']) : undefined;
  if (heapProfileDir && url) throw new Error('--heap-prof needs nodes started by the run (not --url)');
  const driverProfileDir = typeof flags['driver-cpu-prof'] === 'string' ? path.resolve(flags['driver-cpu-prof']) : undefined;
  const nodeEnv = typeof flags['node-env'] === 'string' ? parseNodeEnv(flags['node-env']) : undefined;
  if (nodeEnv && url) throw new Error('--node-env needs nodes started by the run (not --url)');
  const nodeArgs = typeof flags['node-args'] === 'string' ? flags['node-args'].split(/\s+/).filter(Boolean) : undefined;
  if (nodeArgs?.some((a) => !a.startsWith('--'))) throw new Error(`--node-args takes flags (each starting with --), got "${String(flags['node-args'])}"`);
  if (nodeArgs && url) throw new Error('--node-args needs nodes started by the run (not --url)');
  return { url, nodePids: pids, keepLogs: flags['keep-logs'] === true, ...(profileDir ? { profileDir } : {}), ...(heapProfileDir ? { heapProfileDir } : {}), ...(driverProfileDir ? { driverProfileDir } : {}), ...(nodeEnv ? { nodeEnv } : {}), ...(nodeArgs ? { nodeArgs } : {}) };
}

function parseNodeEnv(text: string): Record<string, string> {
  const pairs = text.split(',').map((kv) => kv.trim()).filter(Boolean);
  if (pairs.some((kv) => !/^[A-Z][A-Z0-9_]*=/.test(kv))) throw new Error(`--node-env takes NAME=value pairs separated by commas, got "${text}"`);
  return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** `--no-receipts` and `--receipt-window-ms`, taken by the scenarios that drive chat traffic (fanout, ramp). */
export const RECEIPT_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  'no-receipts': { type: 'boolean' },
  'receipt-window-ms': { type: 'string' },
};

export const RECEIPT_USAGE = [
  '--no-receipts          clients send no delivery receipts (the SDK sends one per room per second, without an ack; the nodes fan them out as `receipts`)',
  '--receipt-window-ms <n> the clients\' delivery-receipt window (the SDK\'s deliveredDebounceMs; default the SDK\'s 1,000); pair with --node-env RECEIPT_WINDOW_MS=n for the nodes\' side',
];

/** The clients' delivery-receipt window: 0 with --no-receipts, undefined for the SDK's default. */
export function receiptWindowOf(flags: FlagValues): number | undefined {
  const raw = flags['receipt-window-ms'];
  if (flags['no-receipts'] === true) {
    if (raw !== undefined) throw new Error('--no-receipts and --receipt-window-ms exclude each other');
    return 0;
  }
  if (raw === undefined) return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1) throw new Error(`--receipt-window-ms must be an integer ≥ 1, got "${String(raw)}"`);
  return ms;
}
