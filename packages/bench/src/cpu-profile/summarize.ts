/**
 * `pnpm bench-profile <file.cpuprofile | file.heapprofile | dir> [--top N]`: where a V8 CPU profile (node
 * --cpu-prof) spent its time: self time by area (our packages, each dependency, Node internals, GC, idle),
 * the hottest functions by self time, and our own functions by inclusive time (what each step of a request
 * costs with everything it calls). A sampling heap profile (`pnpm bench … --heap-prof`) gets the same three
 * tables in bytes allocated. Several files (one per node process) are added up. Frames of a bundle with a
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
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children?: HeapNode[];
}
interface HeapProfile {
  head: HeapNode;
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
    // CPU profiles name scripts by URL, sampling heap profiles by path.
    if (!frame.url.startsWith('file://') && !path.isAbsolute(frame.url)) return frame;
    const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
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
  /** ms sampled (CPU) or bytes allocated (heap). */
  total: number;
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
    into.total += ms;
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

/** Bytes allocated in a heap profile's tree: the same totals, in bytes instead of ms (no idle). */
function accumulateHeap(profile: HeapProfile, into: Totals, sources: SourceResolver): void {
  const visit = (node: HeapNode, ours: ReadonlySet<string>): void => {
    const frame = sources.resolve(node.callFrame);
    const own = /\/(apps|packages)\/[^/]+\/src\//.test(frame.url) ? new Set([...ours, label(frame)]) : ours;
    if (node.selfSize > 0) {
      into.total += node.selfSize;
      add(into.byArea, areaOf(frame), node.selfSize);
      add(into.bySelf, label(frame), node.selfSize);
      for (const key of own) add(into.ourInclusive, key, node.selfSize);
    }
    for (const child of node.children ?? []) visit(child, own);
  };
  visit(profile.head, new Set());
}

function files(target: string, ext: string): string[] {
  if (statSync(target).isDirectory()) return readdirSync(target).filter((f) => f.endsWith(ext)).map((f) => path.join(target, f));
  return target.endsWith(ext) ? [target] : [];
}

/** `busy`: the CPU profile's samples that were not idle (a second percentage); a heap profile has none. */
function table(title: string, map: Map<string, number>, total: number, top: number, unit: (v: number) => string, busy?: number): string[] {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  const pct = (v: number, of: number) => ((v / of) * 100).toFixed(1).padStart(5);
  return [title, ...rows.map(([k, v]) => `${unit(v).padStart(10)} ${pct(v, total)} %${busy === undefined ? '' : ` ${pct(v, busy)} %busy`}  ${k}`), ''];
}

/**
 * The CPU the profiled processes used over their profiles' windows, from the `.cpu.json` the preload writes
 * beside each profile (`cpu-profile/preload.cjs`); undefined unless every profile has one.
 */
function processCpuMs(profiles: string[]): number | undefined {
  let ms = 0;
  for (const file of profiles) {
    const side = file.replace(/\.cpuprofile$/, '.cpu.json');
    if (!existsSync(side)) return undefined;
    const { userMicros, systemMicros } = JSON.parse(readFileSync(side, 'utf8')) as { userMicros: number; systemMicros: number };
    ms += (userMicros + systemMicros) / 1000;
  }
  return ms;
}

/**
 * A sample covers the wall time since the one before, so time a process spent runnable but waiting for a core
 * counts as busy, on the frame it was in when it lost the core: often a system call that woke another process
 * (a `writev` to NGINX, PostgreSQL or Redis). On a machine short of cores the shares below are of that wall time.
 */
function cpuUsedLine(busyMs: number, usedMs: number): string {
  const head = `the processes' own CPU over the same windows: ${(usedMs / 1000).toFixed(1)} s (process.cpuUsage, all threads)`;
  if (busyMs <= usedMs) return head;
  return `${head}; busy samples are ${(busyMs / usedMs).toFixed(2)}x it: a sample is wall time, so waits for a core count as busy, on the frame that was running (often a system call that woke another process)`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const top = Number(values.top ?? 30);
  if (positionals.length === 0) {
    console.error('usage: pnpm bench-profile <file.cpuprofile | file.heapprofile | dir> … [--top N]');
    process.exit(2);
  }
  const sources = new SourceResolver();
  const cpu = positionals.flatMap((p) => files(p, '.cpuprofile'));
  if (cpu.length > 0) {
    const totals: Totals = { total: 0, byArea: new Map(), bySelf: new Map(), ourInclusive: new Map() };
    for (const file of cpu) accumulate(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, totals, sources);
    const idle = totals.byArea.get('(idle)') ?? 0;
    const busy = totals.total - idle;
    console.log(`${cpu.length} profile(s), ${(totals.total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (not idle)`);
    const used = processCpuMs(cpu);
    if (used !== undefined) console.log(cpuUsedLine(busy, used));
    console.log('');
    console.log(['columns: seconds, % of all samples, % of busy samples', ''].join('\n'));
    console.log(
      [
        ...table('self time by area', totals.byArea, totals.total, top, seconds, busy),
        ...table('self time by function', totals.bySelf, totals.total, top, seconds, busy),
        ...table('our functions, inclusive time', totals.ourInclusive, totals.total, top, seconds, busy),
      ].join('\n'),
    );
  }
  const heap = positionals.flatMap((p) => files(p, '.heapprofile'));
  if (heap.length > 0) {
    const totals: Totals = { total: 0, byArea: new Map(), bySelf: new Map(), ourInclusive: new Map() };
    for (const file of heap) accumulateHeap(JSON.parse(readFileSync(file, 'utf8')) as HeapProfile, totals, sources);
    console.log(`${heap.length} heap profile(s), ${megabytes(totals.total)} allocated (sampled; freed objects included)\n`);
    console.log(['columns: bytes allocated in the sampled window, % of all', ''].join('\n'));
    console.log(
      [
        ...table('allocated by area', totals.byArea, totals.total, top, megabytes),
        ...table('allocated by function', totals.bySelf, totals.total, top, megabytes),
        ...table('our functions, inclusive allocation', totals.ourInclusive, totals.total, top, megabytes),
      ].join('\n'),
    );
  }
  if (cpu.length + heap.length === 0) {
    console.error('no .cpuprofile or .heapprofile found');
    process.exit(2);
  }
}

main();
