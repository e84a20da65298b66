import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux ABI Node runs on. */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface Stat {
  ppid: number;
  cpuTicks: number;
  rssBytes: number;
}

/** utime + stime and resident set of one process from /proc/<pid>/stat; undefined if it is gone. */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24.
  return {
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    rssBytes: Number(fields[21]) * PAGE_BYTES,
  };
}

/** CPU time (user + system) one process has used so far, in seconds; undefined if it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat && stat.cpuTicks / TICKS_PER_SECOND;
}

/** CPU ticks the whole machine spent busy (all cores, every process, steal included), from /proc/stat. */
function machineBusyTicks(): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const n = fields.map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    return n[0]! + n[1]! + n[2]! + n[5]! + n[6]! + n[7]!;
  } catch {
    return 0;
  }
}

/** The name of the pseudo-group that holds the whole machine's CPU use (every process, ours and others'). */
export const MACHINE_GROUP = 'whole machine';

/** Parent → children over every process now running. */
function childrenMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(Number(entry));
    else children.set(stat.ppid, [Number(entry)]);
  }
  return children;
}

/** `pid` and every descendant (node workers, PostgreSQL backends, NGINX workers). */
function processTree(pid: number, children: Map<number, number[]>): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

export interface GroupUsage {
  /** CPU seconds used since the sampler started (restarted processes included). */
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** A named set of processes to watch: a node (its pid may change on restart), PostgreSQL, NGINX, drivers. */
export interface ProcessGroup {
  name: string;
  pids(): (number | undefined)[];
}

/**
 * Samples CPU time and RSS of process groups from /proc (with their descendants) every `intervalMs`.
 * CPU is accumulated per PID, so a node that is killed and restarted keeps adding up; RSS is the current
 * sum and its peak. CPU seconds over a window = difference of two `snapshot()`s.
 */
export class ProcessSampler {
  private readonly lastTicks = new Map<number, number>();
  private readonly usage = new Map<string, GroupUsage>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private first = true;
  private lastMachineTicks = 0;

  constructor(
    private readonly groups: ProcessGroup[],
    intervalMs = 1000,
  ) {
    for (const g of groups) this.usage.set(g.name, { cpuSeconds: 0, rssBytes: 0, peakRssBytes: 0 });
    this.usage.set(MACHINE_GROUP, { cpuSeconds: 0, rssBytes: 0, peakRssBytes: 0 });
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const children = childrenMap();
    for (const group of this.groups) {
      const u = this.usage.get(group.name)!;
      let rss = 0;
      for (const root of group.pids()) {
        if (root === undefined) continue;
        for (const pid of processTree(root, children)) {
          const stat = readStat(pid);
          if (!stat) continue;
          rss += stat.rssBytes;
          const before = this.lastTicks.get(pid);
          // A PID first seen after the start is a new process (a restarted node): all its time counts.
          if (!this.first) u.cpuSeconds += (stat.cpuTicks - (before ?? 0)) / TICKS_PER_SECOND;
          this.lastTicks.set(pid, stat.cpuTicks);
        }
      }
      u.rssBytes = rss;
      u.peakRssBytes = Math.max(u.peakRssBytes, rss);
    }
    const machine = this.usage.get(MACHINE_GROUP)!;
    const ticks = machineBusyTicks();
    if (!this.first) machine.cpuSeconds += (ticks - this.lastMachineTicks) / TICKS_PER_SECOND;
    this.lastMachineTicks = ticks;
    this.first = false;
  }

  /** A fresh sample, then a copy of every group's usage. */
  snapshot(): Record<string, GroupUsage> {
    this.sample();
    return Object.fromEntries([...this.usage].map(([name, u]) => [name, { ...u }]));
  }

  resetPeaks(): void {
    for (const u of this.usage.values()) u.peakRssBytes = u.rssBytes;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** CPU share (100 = one core) and RSS of each group between two snapshots. */
export function usageBetween(
  before: Record<string, GroupUsage>,
  after: Record<string, GroupUsage>,
  seconds: number,
): Record<string, { cpuPercent: number; rssMiB: number; peakRssMiB: number }> {
  const out: Record<string, { cpuPercent: number; rssMiB: number; peakRssMiB: number }> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { cpuSeconds: 0 };
    out[name] = {
      cpuPercent: Math.round(((a.cpuSeconds - b.cpuSeconds) / seconds) * 1000) / 10,
      rssMiB: Math.round(a.rssBytes / 2 ** 20),
      peakRssMiB: Math.round(a.peakRssBytes / 2 ** 20),
    };
  }
  return out;
}
