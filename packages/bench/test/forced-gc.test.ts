import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { waitUntil } from '@chat/testkit';

// The benchmark reads memory per socket right after a full collection it forces in every node through this
// preload (SIGWINCH → a full collection → a memory report). A real child process: the
// report must come, count up, and show garbage dropped in between as gone.

const PRELOAD = path.join(__dirname, '../src/forced-gc/preload.cjs');

// ~20 MB of small objects held by a global until stdin says to drop them.
const CHILD = `
globalThis.keep = Array.from({ length: 200000 }, (_, i) => ({ i, text: 'x'.repeat(40) + i }));
process.stdout.write('ready\\n');
process.stdin.on('data', () => { globalThis.keep = undefined; process.stdout.write('dropped\\n'); });
`;

interface Report {
  count: number;
  heapUsed: number;
  rss: number;
}

test('a SIGWINCH makes the node collect its garbage and report its memory, every time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'forced-gc-'));
  const child = spawn(process.execPath, ['--require', PRELOAD, '-e', CHILD], { env: { ...process.env, CHAT_GC_REPORT_DIR: dir }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const file = path.join(dir, `${child.pid}.json`);
    const report = (): Report | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined);
    const collect = async (count: number): Promise<Report> => {
      child.kill('SIGWINCH');
      await waitUntil(async () => report()?.count === count, { description: `memory report ${count}` });
      return report()!;
    };

    await waitUntil(async () => out.includes('ready'), { description: 'the child holding its objects' });
    const holding = await collect(1);
    expect(holding.heapUsed).toBeGreaterThan(15 * 2 ** 20);
    expect(holding.rss).toBeGreaterThan(holding.heapUsed);

    child.stdin.write('drop\n');
    await waitUntil(async () => out.includes('dropped'), { description: 'the child dropping its objects' });
    const dropped = await collect(2);
    // Collected at once, not whenever V8 would have: most of what was held is gone.
    expect(holding.heapUsed - dropped.heapUsed).toBeGreaterThan(10 * 2 ** 20);
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});
