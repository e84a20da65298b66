import type { ParseArgsConfig } from 'node:util';
import type { Cleanups } from './cleanups';

export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One line of the results table. Latency is per message, in milliseconds. */
export interface ResultRow {
  scenario: string;
  mode: string;
  messagesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Mean messages per transaction, where known. */
  meanBatch: number | undefined;
  /** Anything else worth keeping in the JSON (counts, cross-checks, parameters of this row). */
  details: Record<string, unknown>;
}

export interface Ratio {
  label: string;
  value: number;
  /**
   * The target the issue set, printed beside the value (not enforced: numbers vary by machine): at least
   * `value` (`min`, the default) or at most (`max`).
   */
  goal?: { value: number; direction?: 'min' | 'max' };
  /** For an absolute figure checked against a goal (ms, KiB): printed after the value instead of "×". */
  unit?: string;
  /**
   * The value is only a bound (a ramp that met its top step knows its rate only from below): `upper`, the true
   * ratio is at most this; `lower`, at least. A bound on the goal's far side cannot show it met (nor missed).
   */
  bound?: 'upper' | 'lower';
}

/** A free-form table for scenarios whose results do not fit the message-rate rows (load scenarios). */
export interface ResultTable {
  title: string;
  columns: string[];
  /** Cells in column order; numbers are printed as they are (round them first). */
  rows: (string | number)[][];
}

export interface ScenarioResult {
  rows: ResultRow[];
  /** Printed after `rows` (which may then be empty). */
  tables?: ResultTable[];
  ratios: Ratio[];
  parameters: Record<string, unknown>;
  notes: string[];
  /** Raw measurements for the JSON file (histogram summaries, counters, per-process usage). */
  details?: Record<string, unknown>;
  /** Correctness problems seen while measuring (failed sends, acked ≠ stored); any makes the run exit 1. */
  failures: string[];
}

export interface ScenarioContext {
  flags: FlagValues;
  /** Things to undo at the end, on error and on SIGINT, last registered first. */
  cleanups: Cleanups;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Flag lines for `pnpm bench help`, with their defaults. */
  usage: string[];
  /** Flags of this scenario, in node:util parseArgs form (all strings or booleans). */
  options: NonNullable<ParseArgsConfig['options']>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
