import { execFile } from 'node:child_process';
import path from 'node:path';
import { testServices } from '@chat/testkit';

// A command nobody awaits (ioredis's own SUBSCRIBE after a reconnect, the adapter's SUNSUBSCRIBE) that is
// rejected when its connection closes must not be an unhandled rejection. In a child process: an unhandled
// rejection ends Node.js's process by default, which is what the test tells apart.

const MODULE = path.resolve(__dirname, '../../src/infra/redis-connection.ts');
const SCRIPT = `
const mod = await import(process.argv[1]);
const { observeEveryCommand } = mod.observeEveryCommand ? mod : mod.default;
const { Redis } = await import('ioredis');
const client = new Redis(process.argv[2], { maxRetriesPerRequest: 2 });
client.on('error', () => undefined);
if (process.argv[3] === 'observed') observeEveryCommand(client, (err) => console.log('observed: ' + err.message));
await client.ping();
// Blocks until the connection goes: nobody awaits it, as nobody awaits a re-subscription.
client.blpop('redis-connection-test:' + process.pid, 0);
client.disconnect();
setTimeout(() => console.log('still running'), 100);
`;

function run(mode: 'observed' | 'bare'): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, MODULE, testServices().redisUrl, mode];
    execFile(process.execPath, args, { timeout: 30_000, cwd: path.resolve(__dirname, '../..') }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout });
    });
  });
}

test('a command nobody awaits, rejected when its connection closes, is observed and not unhandled', async () => {
  const observed = await run('observed');
  // (ioredis 6 also sends CLIENT SETINFO on connect, which Redis 7.0 refuses: observed too, and handled by ioredis.)
  const lines = observed.stdout.trim().split('\n').filter((line) => !line.includes('SETINFO'));
  expect(lines).toEqual(['observed: Connection is closed.', 'still running']);
  expect(observed.code).toBe(0);
  // Without it, the same script dies of the unhandled rejection.
  const bare = await run('bare');
  expect(bare.code).not.toBe(0);
  expect(bare.stdout).not.toContain('still running');
});
