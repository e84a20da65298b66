import { request } from 'node:http';
import { childPids, waitUntil, type Cluster } from '@chat/testkit';
import { ChatLoad, roundPercentiles } from '../load/chat-load';
import type { ConnectionPeaks, DbConnectionPoller } from '../load/db-connections';
import { optionsFor, readNumbers, targetFlags, usageFor } from '../load/load-flags';
import { openTarget } from '../load/load-target';
import { usageRows } from '../load/measurement-table';
import type { TimelineEvent } from '../load/driver-protocol';
import { usageBetween } from '../load/process-usage';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario';

const FLAGS = [
  { key: 'nodes', flag: 'nodes', full: 4, quick: 2, integer: true, min: 1, help: 'node processes behind NGINX' },
  { key: 'clients', flag: 'clients', full: 5000, quick: 200, integer: true, min: 2, help: 'connected, chatting clients (one user each)' },
  { key: 'roomSize', flag: 'room-size', full: 10, quick: 5, integer: true, min: 2, help: 'members per room' },
  { key: 'rate', flag: 'rate', full: 100, quick: 20, help: 'total sends per second, before, during and after the storm' },
  { key: 'sources', flag: 'sources', full: 100, quick: 20, integer: true, min: 1, help: 'client source addresses 127.0.K.1 (20 new connections/s each)' },
  { key: 'drivers', flag: 'drivers', full: 3, quick: 2, integer: true, min: 1, help: 'load driver processes' },
  { key: 'before', flag: 'before', full: 10, quick: 3, min: 0, help: 'seconds of chatting before the kill' },
  { key: 'after', flag: 'after', full: 10, quick: 3, min: 0, help: 'seconds of chatting after full recovery' },
  { key: 'recoveryTimeout', flag: 'recovery-timeout', full: 300, quick: 120, help: 'seconds to wait for every client to recover' },
  { key: 'settle', flag: 'settle', full: 20, quick: 10, min: 0, help: 'seconds deliveries may take after the last ack' },
  { key: 'contentBytes', flag: 'content-bytes', full: 100, quick: 100, integer: true, min: 20, help: 'message size' },
  { key: 'poolMax', flag: 'pool-max', full: 20, quick: 20, integer: true, min: 1, help: 'DATABASE_POOL_MAX of every node (per pool: primary and replica)' },
] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function readyz(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(3000, () => req.destroy());
    req.end();
  });
}

/** Counts per second from `since` on, `seconds` of them (second 0 holds `since`). */
function spread(perEpochSecond: Record<string, number>, since: number, seconds: number): number[] {
  const base = Math.floor(since / 1000);
  return Array.from({ length: seconds }, (_, i) => perEpochSecond[String(base + i)] ?? 0);
}

async function killAndRestart(cluster: Cluster, log: (m: string) => void): Promise<{ killedAt: number; upAt: number }> {
  const killedAt = Date.now();
  await Promise.all(cluster.nodes.map((n) => n.kill('SIGKILL')));
  log(`all ${cluster.nodes.length} nodes killed (SIGKILL) in ${Date.now() - killedAt} ms; restarting`);
  await Promise.all(cluster.nodes.map((n) => n.restart()));
  const upAt = Date.now();
  log(`all nodes ready again ${((upAt - killedAt) / 1000).toFixed(1)} s after the kill: ${cluster.nodes.map((n) => `${n.id} pid ${n.pid}`).join(', ')}`);
  return { killedAt, upAt };
}

/**
 * A network blip: NGINX's worker processes are SIGKILLed; the master starts new ones at once. Every
 * client loses its connection at the same instant while every node stays up, so the whole herd comes
 * back within its first backoff window (≤ 1 s) and meets the admission budgets head on.
 */
async function blipNginx(cluster: Cluster, log: (m: string) => void): Promise<{ killedAt: number; upAt: number }> {
  const master = cluster.nginx.pid;
  if (master === undefined) throw new Error('NGINX is not running');
  const workers = childPids(master);
  const killedAt = Date.now();
  for (const pid of workers) process.kill(pid, 'SIGKILL');
  await waitUntil(async () => childPids(master).some((pid) => !workers.includes(pid)), { description: 'NGINX to start new workers', timeoutMs: 30_000 });
  const upAt = Date.now();
  log(`NGINX workers ${workers.join(', ')} killed (SIGKILL); new workers after ${upAt - killedAt} ms`);
  return { killedAt, upAt };
}

type Mode = 'kill' | 'blip';

interface Phase {
  mode: Mode;
  markAt: number;
  killedAt: number;
  upAt: number;
  allRecovered: boolean;
  recovered: number;
  recovery: ReturnType<typeof roundPercentiles>;
  /** RATE_LIMITED refusals per second from markAt to full recovery. */
  rejections: number[];
  /** Per second from markAt to full recovery: refusals, transport failures, connections made, recoveries. */
  timeline: Record<TimelineEvent, number[]>;
  peaks: ConnectionPeaks | undefined;
  usage: ReturnType<typeof usageBetween>;
}

/**
 * One outage: mark every client, break their connections (`kill`: every node SIGKILLed and restarted;
 * `blip`: NGINX's workers SIGKILLed), then wait until every client is connected and synced again.
 */
async function stormPhase(
  mode: Mode,
  load: ChatLoad,
  cluster: Cluster,
  poller: DbConnectionPoller | undefined,
  clients: number,
  timeoutS: number,
  toggleProfiles: () => void,
  log: (m: string) => void,
): Promise<Phase> {
  const pool = load.pool;
  poller?.reset();
  const usageBefore = load.sampler.snapshot();
  load.sampler.resetPeaks();
  const markAt = Date.now();
  await pool.markRecovery(markAt);
  const { killedAt, upAt } = mode === 'kill' ? await killAndRestart(cluster, log) : await blipNginx(cluster, log);
  // With --cpu-prof: every node profiles the recovery, from the nodes being back to the last client synced.
  toggleProfiles();

  const deadline = killedAt + timeoutS * 1000;
  let stats = await pool.stats();
  let lastLog = 0;
  while (stats.recovered < clients && Date.now() < deadline) {
    await sleep(500);
    stats = await pool.stats();
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      log(`+${((Date.now() - killedAt) / 1000).toFixed(0)} s: ${stats.recovered}/${clients} recovered, ${stats.connected} connected, connect errors ${JSON.stringify(stats.connectErrorCodes)}`);
    }
  }
  const recoveredAt = Date.now();
  toggleProfiles();
  const recovery = roundPercentiles(stats.histograms.recovery.summary());
  const allRecovered = stats.recovered >= clients;
  log(allRecovered ? `${mode}: all ${clients} clients reconnected and synced; slowest ${(recovery.max / 1000).toFixed(1)} s after the outage began` : `${mode}: only ${stats.recovered}/${clients} recovered by the deadline`);
  const seconds = Math.ceil((recoveredAt - Math.floor(markAt / 1000) * 1000) / 1000);
  const series = (event: TimelineEvent) => spread(stats.perSecond[event], markAt, seconds);
  const timeline = { refused: series('refused'), transport: series('transport'), connected: series('connected'), recovered: series('recovered') };
  const rejections = timeline.refused;
  return {
    mode,
    markAt,
    killedAt,
    upAt,
    allRecovered,
    recovered: stats.recovered,
    recovery,
    rejections,
    timeline,
    peaks: poller?.current,
    usage: usageBetween(usageBefore, load.sampler.snapshot(), (recoveredAt - markAt) / 1000),
  };
}

async function run({ flags, cleanups, log }: ScenarioContext): Promise<ScenarioResult> {
  if (flags.url !== undefined) throw new Error('storm kills and restarts the nodes, so it starts its own cluster: --url does not apply');
  const modeFlag = flags.mode ?? 'kill';
  if (modeFlag !== 'kill' && modeFlag !== 'blip' && modeFlag !== 'both') throw new Error('--mode must be kill, blip or both');
  const modes: Mode[] = modeFlag === 'both' ? ['kill', 'blip'] : [modeFlag];
  const p = readNumbers(flags, FLAGS);
  if (p.rate / p.clients > 5) throw new Error('--rate is above 5 sends/s per client (the server allows 10/s per user)');
  const { nodeEnv, nodeArgs, profileDir, heapProfileDir, driverProfileDir } = targetFlags(flags);
  const target = await openTarget({
    nodes: p.nodes,
    clients: p.clients,
    env: { DATABASE_POOL_MAX: String(p.poolMax) },
    nodeEnv,
    nodeArgs,
    profileDir,
    heapProfileDir,
    driverProfileDir,
    keepLogs: flags['keep-logs'] === true,
    cleanups,
    log,
  });
  const cluster = target.cluster!;
  const load = await ChatLoad.create(
    target,
    {
      users: p.clients,
      roomSize: p.roomSize,
      sources: p.sources,
      drivers: p.drivers,
      socketsPerUser: 1,
      connectPerSecond: 0,
      connectTimeoutMs: p.recoveryTimeout * 1000,
      // Sends wait through the outage: the SDK keeps each one (same id) until it is answered.
      ack: { timeoutMs: 10_000, retries: 20 },
    },
    cleanups,
    log,
  );
  const initialStarted = Date.now();
  const initial = await load.connectAll(log);
  const initialSeconds = (Date.now() - initialStarted) / 1000;

  return load.withConnectionPoller(async (poller) => {
    const pool = load.pool;
    const startAt = Date.now() + 500;
    await pool.window(startAt, Number.MAX_SAFE_INTEGER);
    log(`chatting at ${p.rate}/s; outages: ${modes.join(', then ')}`);
    const sending = pool.send({
      startAt,
      durationMs: modes.length * (p.before + p.recoveryTimeout + p.after) * 1000 + 60_000,
      perSecond: p.rate,
      contentBytes: p.contentBytes,
      maxOutstanding: 2,
      settleTimeoutMs: 120_000,
    });
    await sleep(startAt - Date.now());
    const phases: Phase[] = [];
    for (const mode of modes) {
      await sleep(p.before * 1000);
      phases.push(await stormPhase(mode, load, cluster, poller, p.clients, p.recoveryTimeout, () => target.toggleProfiles(), log));
    }
    await sleep(p.after * 1000);
    await pool.stopSending();
    await sending;
    const acked = await pool.acked();
    const verify = await pool.verify(acked, p.settle * 1000);
    const final = await pool.stats();
    const storedDuplicates = await load.storedDuplicates();
    const nodeStatus = await Promise.all(cluster.nodes.map(async (n) => ({ id: n.id, pid: n.pid, readyz: await readyz(n.url) })));

    const cap = p.nodes * p.poolMax;
    const ackedTotal = Object.values(acked).reduce((n, seqs) => n + seqs.length, 0);
    const c = final.counters;
    const crossing = c.resentAfterAck - c.resentByServer - c.resentStaleRequest - c.resentOverlap;

    const failures: string[] = [];
    for (const ph of phases) {
      if (!ph.allRecovered) failures.push(`${ph.mode}: ${p.clients - ph.recovered} clients not reconnected and synced within ${p.recoveryTimeout} s`);
      if (ph.peaks && (ph.peaks.primary > cap || ph.peaks.replica > cap)) failures.push(`${ph.mode}: database connections above ${p.nodes} nodes × pool ${p.poolMax}: primary ${ph.peaks.primary}, replica ${ph.peaks.replica}`);
    }
    if (verify.lost > 0) failures.push(`${verify.lost} acknowledged deliveries lost: ${verify.examples.join('; ')}`);
    if ((storedDuplicates ?? 0) > 0) failures.push(`${storedDuplicates} messages stored twice`);
    if (c.duplicateLive + c.duplicateReleased > 0) failures.push(`${c.duplicateLive} live redeliveries, ${c.duplicateReleased} released twice by the SDK`);
    // The recovery path must never send back what a client had acknowledged when it asked.
    if (c.resentByServer > 0) failures.push(`${c.resentByServer} messages in sync answers at or below the requested afterSeq (server)`);
    if (c.resentStaleRequest > 0) failures.push(`${c.resentStaleRequest} messages synced again because the SDK asked from below its acknowledged cursor`);
    if (c.failed + c.unsettled > 0) failures.push(`${c.failed} sends failed, ${c.unsettled} unanswered (${JSON.stringify(final.ackErrors)})`);
    for (const n of nodeStatus) if (n.pid === undefined || n.readyz !== 200) failures.push(`${n.id} not running and ready at the end (pid ${n.pid}, /readyz ${n.readyz})`);

    const ack = roundPercentiles(final.histograms.ack.summary());
    const delivery = roundPercentiles(final.histograms.delivery.summary());
    const outage = (m: Mode) => (m === 'kill' ? 'every node SIGKILLed and restarted' : 'NGINX workers SIGKILLed (every connection dropped), nodes up');
    return {
      rows: [],
      tables: [
        {
          title: `storm: ${p.clients} clients in rooms of ${p.roomSize} chatting at ${p.rate}/s on ${p.nodes} nodes, through NGINX`,
          columns: ['outage', 'back s', 'all synced s', 'recovery p50 s', 'p99 s', 'refused', 'peak refused/s', 'seconds refusing', 'peak DB conns', 'cap'],
          rows: phases.map((ph) => [
            ph.mode,
            Math.round((ph.upAt - ph.killedAt) / 100) / 10,
            ph.allRecovered ? Math.round(ph.recovery.max / 100) / 10 : 'not all',
            Math.round(ph.recovery.p50 / 100) / 10,
            Math.round(ph.recovery.p99 / 100) / 10,
            ph.rejections.reduce((a, b) => a + b, 0),
            Math.max(0, ...ph.rejections),
            ph.rejections.filter((n) => n > 0).length,
            ph.peaks ? `${ph.peaks.primary}+${ph.peaks.replica}` : '-',
            `${cap}+${cap}`,
          ]),
        },
        {
          title: 'acknowledged messages over the whole run',
          columns: ['acked', 'lost', 'dup', 'resent', 'overlap', 'failed', 'skipped', 'ack p50 ms', 'ack p99 ms', 'deliv p50 ms', 'deliv p99 ms'],
          rows: [[ackedTotal, verify.lost, (storedDuplicates ?? 0) + c.duplicateLive + c.duplicateReleased, c.resentByServer + c.resentStaleRequest, c.resentOverlap + crossing, c.failed + c.unsettled, c.skipped, ack.p50, ack.p99, delivery.p50, delivery.p99]],
        },
        ...phases.map((ph) => ({
          title: `resources during "${ph.mode}", from the outage to full recovery`,
          columns: ['process', 'CPU % (100 = 1 core)', 'RSS MiB', 'peak RSS MiB'],
          rows: usageRows(ph.usage),
        })),
      ],
      ratios: [],
      parameters: { ...p, mode: modeFlag },
      notes: [
        ...phases.map((ph) => `${ph.mode}: ${outage(ph.mode)}; back after ${((ph.upAt - ph.killedAt) / 1000).toFixed(1)} s; per second from the outage on (second 0 holds it): RATE_LIMITED refusals [${ph.timeline.refused.join(' ')}]; transport failures [${ph.timeline.transport.join(' ')}]; connections made [${ph.timeline.connected.join(' ')}]; clients recovered (reconnected and synced) [${ph.timeline.recovered.join(' ')}]`),
        `initial connect: ${p.clients} clients in ${initialSeconds.toFixed(1)} s, all at once (admission: 100/s per node, 20/s per address), connect errors ${JSON.stringify(initial.connectErrorCodes)}.`,
        `design target: 10,000 clients in ~25 s at 100 connections/s per node (${p.nodes} nodes admit ${p.nodes * 100}/s: ${p.clients} clients need ≥ ${(p.clients / (p.nodes * 100)).toFixed(1)} s once the nodes are back).`,
        `connect errors over the run: ${JSON.stringify(final.connectErrorCodes)} (TRANSPORT: no answer from NGINX/the node, or the 20 s connect timeout).`,
        `ack and delivery latency over the whole run, outages included (sends made during an outage wait for the reconnection).`,
        `resent = delivered again although the client had acknowledged them when it asked: sync answers at or below the requested afterSeq (server: ${c.resentByServer}) or syncs the SDK asked from below its acknowledged cursor (SDK: ${c.resentStaleRequest}); must be 0. overlap = copies that crossed: acknowledged from live delivery while a sync carrying them was in flight (${c.resentOverlap}), or a live broadcast arriving after the same message came by sync and was acknowledged (${crossing}, message age p50 ${roundPercentiles(final.histograms.lateLiveAge.summary()).p50} ms).`,
        `missing before the final sync: ${verify.missingBeforeFinalSync}; messages fetched by sync: ${c.syncedMessages}; skipped = sends not started because the client had 2 in flight.`,
        `peak DB connections = primary + replica client backends of the chat database (pg_stat_activity every 250 ms); cap = nodes × DATABASE_POOL_MAX per server.`,
        `nodes at the end: ${nodeStatus.map((n) => `${n.id} pid ${n.pid} /readyz ${n.readyz}`).join(', ')}; busiest driver event loop ${Math.round(final.maxDriverUtilization * 100)} %.`,
      ],
      failures,
      details: { phases, ack, delivery, verify, counters: c, connectErrorCodes: final.connectErrorCodes, nodeStatus, initialSeconds },
    };
  }, log);
}

export const stormScenario: Scenario = {
  name: 'storm',
  summary: 'C chatting clients; every node SIGKILLed and restarted: time to 100% reconnected and synced, refusals, DB connections, lost = 0',
  usage: [
    '--quick                small and short (200 clients on 2 nodes)',
    '--mode <kill|blip|both>   kill: every node SIGKILLed and restarted (default); blip: NGINX drops every connection, nodes stay up; both: kill, then blip',
    '--keep-logs            copy the cluster\'s logs to .bench/logs/',
    '--node-env K=V,K=V     extra environment for our nodes (A/B of a setting, e.g. LISTEN_BACKLOG=511)',
    ...usageFor(FLAGS),
  ],
  options: optionsFor(FLAGS, { mode: { type: 'string' } }),
  run,
};
