import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine';
import type { ResultTable, ScenarioResult } from './scenario';

export interface Report {
  scenario: string;
  startedAt: string;
  flags: Record<string, unknown>;
  machine: MachineInfo;
  result: ScenarioResult;
}

const fmt = (n: number | undefined, digits: number): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

export function formatReport(report: Report): string {
  const header = ['scenario', 'mode', 'msgs/s', 'p50 ms', 'p95 ms', 'p99 ms', 'mean batch'];
  const rows = report.result.rows.map((r) => [
    r.scenario,
    r.mode,
    fmt(r.messagesPerSecond, 0),
    fmt(r.latencyMs.p50, 2),
    fmt(r.latencyMs.p95, 2),
    fmt(r.latencyMs.p99, 2),
    fmt(r.meanBatch, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  // Text columns left-aligned, numbers right-aligned, as a reader scans them.
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const m = report.machine;
  return [
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.platform}, load ${m.loadAtStart ? `${m.loadAtStart.join(' ')} at start, ` : ''}${m.loadAverage.join(' ')} at end`,
    `parameters: ${JSON.stringify(report.result.parameters)}`,
    '',
    ...(rows.length > 0 ? [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''] : []),
    ...(report.result.tables ?? []).flatMap((t) => [...formatTable(t), '']),
    ...report.result.ratios.map(
      (r) => {
        const unit = r.unit === undefined ? '×' : ` ${r.unit}`;
        const goal = r.goal === undefined ? '' : ` (goal ${r.goal.direction === 'max' ? '≤' : '≥'} ${r.goal.value}${unit}: ${verdictOf(r.value, r.goal, r.bound)})`;
        const bound = r.bound === 'upper' ? 'at most ' : r.bound === 'lower' ? 'at least ' : '';
        return `${r.label}: ${bound}${fmt(r.value, 2)}${unit}${goal}`;
      },
    ),
    ...(report.result.notes.length > 0 ? ['', ...report.result.notes.map((n) => `note: ${n}`)] : []),
    ...report.result.failures.map((f) => `FAILED: ${f}`),
  ].join('\n');
}

function meets(value: number, goal: { value: number; direction?: 'min' | 'max' }): boolean {
  return goal.direction === 'max' ? value <= goal.value : value >= goal.value;
}

/** Met / NOT met, or "not shown" for a bound that leaves the true value on either side of the goal. */
export function verdictOf(value: number, goal: { value: number; direction?: 'min' | 'max' }, bound?: 'upper' | 'lower'): string {
  const met = meets(value, goal);
  // The true value is at most (upper) or at least (lower) this one: only the bound's own side is conclusive.
  const lowIsGood = goal.direction === 'max';
  if (bound === undefined) return met ? 'met' : 'NOT met';
  const conclusive = (bound === 'upper') === lowIsGood ? met : !met;
  if (!conclusive) return `not shown (${bound === 'upper' ? 'an upper' : 'a lower'} bound)`;
  return met ? 'met' : 'NOT met';
}

/** A titled table: first column left-aligned, the rest right-aligned. */
function formatTable(table: ResultTable): string[] {
  const cells = table.rows.map((row) => row.map((c) => (typeof c === 'number' ? (Number.isNaN(c) ? '-' : String(c)) : c)));
  const widths = table.columns.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [table.title, line(table.columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

/** Writes `.bench/<scenario>-<timestamp>.json` at the repository root (gitignored); returns its path. */
export function writeReport(report: Report): string {
  const dir = benchDir();
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${report.scenario}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** `.bench/` at the repository root (gitignored): reports, and logs kept with --keep-logs. */
export function benchDir(): string {
  return path.join(repoRoot(), '.bench');
}

/** The workspace root, wherever the command was started from (pnpm --filter runs in the package dir). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}
