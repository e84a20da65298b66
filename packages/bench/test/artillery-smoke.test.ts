import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeClusterLogs, REPO_ROOT, startCluster, type Cluster } from '@chat/testkit';

// The QA smoke scenario (artillery/smoke.yml) with the real Artillery binary against a real 2-node cluster
// behind NGINX: it must pass its `ensure` checks, and a run whose threshold cannot be met must exit
// non-zero, so CI really fails when a threshold fails.

const ARTILLERY = path.join(REPO_ROOT, 'packages/bench/node_modules/.bin/artillery');
const SMOKE = path.join(REPO_ROOT, 'artillery/smoke.yml');

interface ArtilleryRun {
  code: number | null;
  output: string;
  report: { aggregate: { counters: Record<string, number> } } | undefined;
}

function runArtillery(target: string, extraArgs: string[], dir: string, name: string): Promise<ArtilleryRun> {
  const reportFile = path.join(dir, `${name}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not Artillery's business
  return new Promise((resolve, reject) => {
    const child = spawn(ARTILLERY, ['run', SMOKE, '--target', target, '--output', reportFile, ...extraArgs], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 80_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let report: ArtilleryRun['report'];
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as ArtilleryRun['report'];
      } catch {
        report = undefined;
      }
      resolve({ code, output, report });
    });
  });
}

describe('artillery/smoke.yml against a 2-node cluster', () => {
  let cluster: Cluster | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'artillery-smoke-'));
    cluster = await startCluster({ nodes: 2 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes its ensure checks, and exits non-zero when a threshold cannot be met', async () => {
    const entry = cluster!.entryUrl;
    // Both at once: they share the cluster, and the test stays short.
    const [passing, impossible] = await Promise.all([
      runArtillery(entry, [], dir, 'passing'),
      runArtillery(entry, ['--overrides', JSON.stringify({ config: { ensure: { thresholds: [{ 'chat.ack_ms.p99': 0.001 }] } } })], dir, 'impossible'),
    ]);
    const context = () => `\n--- artillery output ---\n${passing.output.slice(-3000)}\n${describeClusterLogs(cluster!, 10)}`;

    expect({ code: passing.code, context: passing.code === 0 ? '' : context() }).toEqual({ code: 0, context: '' });
    expect(passing.output).toContain('ok: vusers.failed == 0');
    expect(passing.output).toContain('ok: chat.send_failed == 0');
    expect(passing.output).toMatch(/ok: chat\.ack_ms\.p99 < 2000/);
    // 10 users (2/s for 5 s), 3 acknowledged sends each, all delivered to someone.
    const counters = passing.report!.aggregate.counters;
    expect(counters['vusers.completed']).toBe(10);
    expect(counters['chat.acked']).toBe(30);
    expect(counters['chat.delivered']).toBeGreaterThan(0);

    expect(impossible.code).not.toBe(0);
    expect(impossible.output).toContain('fail: chat.ack_ms.p99 < 0.001');
    // Only the threshold failed: the run itself was healthy.
    expect(impossible.output).toContain('ok: vusers.failed == 0');
  }, 120_000);
});
