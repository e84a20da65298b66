import { execFile } from 'node:child_process';
import path from 'node:path';

// An unhandled promise rejection is logged and counted, and the node's process keeps running; without the
// guard, the same script dies (Node.js's default), so the test can tell the difference.

const MODULE = path.resolve(__dirname, '../src/lifecycle/unhandled-rejections.ts');
const SCRIPT = `
const mod = await import(process.argv[1]);
// Loaded as CommonJS (the package's type): the named export may sit on the default export.
const { keepRunningOnUnhandledRejections } = mod.keepRunningOnUnhandledRejections ? mod : mod.default;
if (process.argv[2] === 'guarded') {
  keepRunningOnUnhandledRejections({ error: (obj, msg) => console.log(JSON.stringify({ err: String(obj.err), msg })) }, () => console.log('counted'));
}
Promise.reject(new Error('boom'));
setTimeout(() => console.log('still running'), 50);
`;

function run(mode: 'guarded' | 'bare'): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, MODULE, mode], { timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout });
    });
  });
}

test('an unhandled rejection is logged and counted, and the process keeps running', async () => {
  const guarded = await run('guarded');
  expect(guarded.code).toBe(0);
  expect(guarded.stdout.trim().split('\n')).toEqual([
    'counted',
    JSON.stringify({ err: 'Error: boom', msg: 'unhandled promise rejection (a bug: the node keeps running)' }),
    'still running',
  ]);
  const bare = await run('bare');
  expect(bare.code).not.toBe(0);
  expect(bare.stdout).not.toContain('still running');
});
