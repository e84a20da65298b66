import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  ensureServerBuild,
  freePort,
  REPO_ROOT,
  spawnService,
  startPostgres,
  startRedis,
  tailFile,
  type ServiceProcess,
} from '@chat/testkit';
import { readNumbers, usageFor } from '../load/load-flags';
import { cpuSecondsOf } from '../load/process-usage';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';
import { LatencySamples } from '../stats';

const FLAGS = [
  { key: 'starts', flag: 'starts', full: 10, quick: 3, integer: true, min: 1, help: 'starts of one node (no other node running)' },
  { key: 'nodes', flag: 'nodes', full: 4, quick: 2, integer: true, min: 1, help: 'nodes SIGKILLed and restarted at once' },
  { key: 'rounds', flag: 'rounds', full: 5, quick: 2, integer: true, min: 1, help: 'rounds of that restart' },
] as const;

/** The targets (issue 8, part 5), printed beside the figures. */
const TARGET_ONE_MS = 1500;
const TARGET_ALL_MS = 3000;
const READY_TIMEOUT_MS = 60_000;
/** How often /readyz is asked while a node starts: the resolution of every figure here. */
const POLL_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readyzStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
    req.end();
  });
}

interface Start {
  /** From spawn to the first 200 from /readyz. */
  readyMs: number;
  /** CPU time (user + system) the node process had used by then. */
  cpuMs: number;
}

/** One node process on a fixed port, started and SIGKILLed again and again. */
class BenchNode {
  private service: ServiceProcess | undefined;

  constructor(
    readonly id: string,
    private readonly port: number,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  /** Spawns the node and resolves once /readyz answers 200. */
  async start(): Promise<Start> {
    const startedAt = performance.now();
    const service = spawnService({ command: process.execPath, args: this.args, cwd: REPO_ROOT, env: { ...this.env, PORT: String(this.port), NODE_ID: this.id }, logFile: this.logFile });
    this.service = service;
    while ((await readyzStatus(this.port)) !== 200) {
      if (service.exitStatus) throw new Error(`${this.id} exited while starting (${JSON.stringify(service.exitStatus)}):\n${tailFile(this.logFile)}`);
      if (performance.now() - startedAt > READY_TIMEOUT_MS) throw new Error(`${this.id} not ready within ${READY_TIMEOUT_MS} ms:\n${tailFile(this.logFile)}`);
      await sleep(POLL_MS);
    }
    const readyMs = performance.now() - startedAt;
    return { readyMs: Math.round(readyMs), cpuMs: Math.round((cpuSecondsOf(service.pid) ?? Number.NaN) * 1000) };
  }

  async kill(): Promise<void> {
    await this.service?.kill();
  }
}

const summary = (values: number[]) => {
  const samples = new LatencySamples();
  for (const v of values) samples.add(v);
  const s = samples.summary();
  return { p50: s.p50, max: s.max, min: Math.min(...values) };
};
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const verdict = (ms: number, target: number) => `${seconds(ms)} s (target ≤ ${seconds(target)} s: ${ms <= target ? 'met' : 'NOT met'})`;

/**
 * How long a node takes from spawn to ready (/readyz 200: database and Redis answer, so NGINX may send it
 * clients), as the cluster runs it: the compiled `node apps/server/dist/main.js` (`--from-source`: the
 * TypeScript through tsx, as nodes ran before there was a build step) against a real PostgreSQL primary
 * + streaming replica and Redis. (a) One node started `--starts` times with no other node running;
 * (b) `--nodes` running nodes SIGKILLed and all restarted at once, `--rounds` times: what a herd recovery
 * waits for before the first client can come back.
 */
async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  const p = readNumbers(flags, FLAGS);
  const fromSource = flags['from-source'] === true;
  const args = fromSource ? ['--import', 'tsx', 'apps/server/src/main.ts'] : [ensureServerBuild()];
  const command = `node ${args.map((a) => (path.isAbsolute(a) ? path.relative(REPO_ROOT, a) : a)).join(' ')}`;

  log('starting PostgreSQL primary + streaming replica and Redis');
  const postgres = await startPostgres({ replica: true });
  cleanups.add('stop PostgreSQL', () => postgres.stop());
  const redis = await startRedis();
  cleanups.add('stop Redis', () => redis.stop());
  const database = await createTestDatabase({ primaryUrl: postgres.primaryUrl, replicaUrl: postgres.replicaUrl });
  const logDir = mkdtempSync(path.join(tmpdir(), 'chat-bench-startup-'));
  cleanups.add('remove node logs', async () => rmSync(logDir, { recursive: true, force: true }));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_REPLICA_URLS: database.replicaUrl!,
    REDIS_URL: redis.url,
    JWT_SECRET: randomBytes(48).toString('base64url'),
  };
  const nodes: BenchNode[] = [];
  for (let i = 1; i <= p.nodes; i++) nodes.push(new BenchNode(`node-${i}`, await freePort(), args, env, path.join(logDir, `node-${i}.log`)));
  cleanups.add('kill nodes', async () => void (await Promise.all(nodes.map((n) => n.kill()))));
  const first = nodes[0]!;

  // The first start on a new database applies the migrations: reported, not counted.
  const migrating = await first.start();
  await first.kill();
  log(`first start (applies the migrations): ${migrating.readyMs} ms; now ${p.starts} starts of ${command}`);

  const single: Start[] = [];
  for (let i = 0; i < p.starts; i++) {
    single.push(await first.start());
    await first.kill();
  }
  const one = summary(single.map((s) => s.readyMs));
  log(`one node: p50 ${one.p50} ms, max ${one.max} ms`);

  await Promise.all(nodes.map((n) => n.start()));
  log(`${p.nodes} nodes running; ${p.rounds} rounds of SIGKILL all, restart all at once`);
  const rounds: { allReadyMs: number; starts: Start[]; load1: number }[] = [];
  for (let r = 0; r < p.rounds; r++) {
    await Promise.all(nodes.map((n) => n.kill()));
    const load1 = Math.round(loadavg()[0]! * 100) / 100;
    const startedAt = performance.now();
    const starts = await Promise.all(nodes.map((n) => n.start()));
    rounds.push({ allReadyMs: Math.round(performance.now() - startedAt), starts, load1 });
    log(`round ${r + 1}: all ${p.nodes} ready after ${rounds.at(-1)!.allReadyMs} ms`);
  }
  await Promise.all(nodes.map((n) => n.kill()));
  const all = summary(rounds.map((r) => r.allReadyMs));

  return {
    rows: [],
    tables: [
      {
        title: `one node, spawn → /readyz 200 (${p.starts} starts, no other node running): ${command}`,
        columns: ['starts', 'p50 ms', 'max ms', 'min ms', 'CPU p50 ms'],
        rows: [[p.starts, one.p50, one.max, one.min, summary(single.map((s) => s.cpuMs)).p50]],
      },
      {
        title: `${p.nodes} nodes SIGKILLed, then restarted at once: spawn → every /readyz 200`,
        columns: ['round', 'all ready ms', 'first ready ms', 'CPU ms per node (p50)', 'load (1 min)'],
        rows: [
          ...rounds.map((r, i) => [
            String(i + 1),
            r.allReadyMs,
            Math.min(...r.starts.map((s) => s.readyMs)),
            summary(r.starts.map((s) => s.cpuMs)).p50,
            r.load1,
          ]),
          ['p50', all.p50, '', '', ''],
          ['max', all.max, '', '', ''],
        ],
      },
    ],
    ratios: [],
    parameters: { ...p, command },
    notes: [
      `one node ready: p50 ${verdict(one.p50, TARGET_ONE_MS)}, max ${seconds(one.max)} s`,
      `${p.nodes} nodes restarted at once, all ready: p50 ${verdict(all.p50, TARGET_ALL_MS)}, max ${seconds(all.max)} s`,
      `the first start on the new database (it applies the migrations) took ${migrating.readyMs} ms and is not counted`,
      `/readyz is asked every ${POLL_MS} ms; CPU = the node process's user + system time when it first answered 200 (10 ms ticks); load = other work on the machine, which stretches every figure`,
    ],
    failures: [],
    details: { migratingStart: migrating, single, rounds },
  };
}

export const startupScenario: Scenario = {
  name: 'startup',
  summary: 'node start-up: spawn → /readyz 200 for one node, and for N nodes SIGKILLed and restarted at once',
  usage: [...usageFor(FLAGS), '--from-source                     run the TypeScript through tsx instead of the build (for comparison)', '--quick                           fewer starts and rounds'],
  options: {
    quick: { type: 'boolean' },
    'from-source': { type: 'boolean' },
    ...Object.fromEntries(FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
  },
  run,
};
