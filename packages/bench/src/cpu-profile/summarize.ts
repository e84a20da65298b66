/**
 * `pnpm bench-profile <file.cpuprofile | dir> [--top N]`: where a V8 CPU profile (node --cpu-prof) spent
 * its time: self time by area (our packages, each dependency, Node internals, GC, idle), the hottest
 * functions by self time, and our own functions by inclusive time (what each step of a request costs with
 * everything it calls). Several files (one per node process) are added up. Frames of a bundle with a
 * source map beside it (the server's `dist/main.js`) are named by their original file, package and function.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to: a dependency by package name, our code by workspace folder, or Node/V8. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /\/(apps|packages)\/([^/]+)\/src\/(.*)$/.exec(url);
  if (ours) return `@chat/${ours[2]}`;
  return url;
}

/**
 * Maps a bundle's frames to their original sources through the `.map` file beside the bundle (esbuild
 * writes one for the server): `file:///…/dist/main.js` line 450 becomes `…/node_modules/.pnpm/ws@…/lib/
 * sender.js` or `…/apps/server/src/features/messages/plugin.ts`, so areas and functions read as in the
 * sources. A frame without a map, or at a position the map does not cover, is kept as it is.
 */
export class SourceResolver {
  private readonly maps = new Map<string, { map: SourceMap; dir: string } | null>();

  resolve(frame: CallFrame): CallFrame {
    if (!frame.url.startsWith('file://')) return frame;
    const file = fileURLToPath(frame.url);
    let found = this.maps.get(file);
    if (found === undefined) {
      found = existsSync(`${file}.map`) ? { map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload), dir: path.dirname(file) } : null;
      this.maps.set(file, found);
    }
    if (!found) return frame;
    const entry = found.map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as Partial<{ originalSource: string; originalLine: number; name: string }>;
    if (!entry.originalSource) return frame;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(found.dir, entry.originalSource);
    return { functionName: entry.name ?? frame.functionName, url: source, lineNumber: entry.originalLine ?? frame.lineNumber };
  }
}

function label(frame: CallFrame): string {
  const ours = /\/(apps|packages)\/([^/]+)\/src\/(.*)$/.exec(frame.url);
  const where = ours ? `${ours[2]}/${ours[3]}` : (frame.url.split('node_modules/').pop() ?? frame.url);
  return `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
}

interface Totals {
  totalMs: number;
  byArea: Map<string, number>;
  bySelf: Map<string, number>;
  ourInclusive: Map<string, number>;
}

function add(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

function accumulate(profile: CpuProfile, into: Totals, sources: SourceResolver): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, { ...n, callFrame: sources.resolve(n.callFrame) }]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    into.totalMs += ms;
    add(into.byArea, areaOf(node.callFrame), ms);
    add(into.bySelf, label(node.callFrame), ms);
    // Inclusive: each of our functions on the stack once per sample.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!/\/(apps|packages)\/[^/]+\/src\//.test(frame.url)) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(into.ourInclusive, key, ms);
    }
  });
}

function files(target: string): string[] {
  if (statSync(target).isDirectory()) return readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f));
  return [target];
}

function table(title: string, map: Map<string, number>, total: number, top: number, busy: number): string[] {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    title,
    ...rows.map(([k, ms]) => `${(ms / 1000).toFixed(2).padStart(8)} s ${((ms / total) * 100).toFixed(1).padStart(5)} % ${((ms / busy) * 100).toFixed(1).padStart(5)} %busy  ${k}`),
    '',
  ];
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const top = Number(values.top ?? 30);
  if (positionals.length === 0) {
    console.error('usage: pnpm bench-profile <file.cpuprofile | dir> … [--top N]');
    process.exit(2);
  }
  const totals: Totals = { totalMs: 0, byArea: new Map(), bySelf: new Map(), ourInclusive: new Map() };
  const all = positionals.flatMap(files);
  const sources = new SourceResolver();
  for (const file of all) accumulate(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, totals, sources);
  const idle = totals.byArea.get('(idle)') ?? 0;
  const busy = totals.totalMs - idle;
  console.log(`${all.length} profile(s), ${(totals.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (not idle)\n`);
  console.log(['columns: seconds, % of all samples, % of busy samples', ''].join('\n'));
  console.log(
    [
      ...table('self time by area', totals.byArea, totals.totalMs, top, busy),
      ...table('self time by function', totals.bySelf, totals.totalMs, top, busy),
      ...table('our functions, inclusive time', totals.ourInclusive, totals.totalMs, top, busy),
    ].join('\n'),
  );
}

main();
