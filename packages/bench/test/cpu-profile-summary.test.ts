import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// `pnpm bench-profile` names a bundle's frames by their original sources through the bundle's source map
// (the server runs as one esbuild bundle, dist/main.js). A real run of the CLI on a profile and a map
// written here: one frame of our code, one of a dependency, both at positions of the same bundle line.

const SUMMARIZE = path.join(__dirname, '../src/cpu-profile/summarize.ts');

test('frames of a bundle are summed under their original package, file and function', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'profile-summary-'));
  try {
    const dist = path.join(root, 'apps/server/dist');
    mkdirSync(dist, { recursive: true });
    const bundle = path.join(dist, 'main.js');
    writeFileSync(bundle, 'function a(){b()}function b(){}\n');
    // Generated column 0 → our plugin.ts, function sendMessage; column 5 → the ws package's sender.js, frame.
    writeFileSync(
      `${bundle}.map`,
      JSON.stringify({
        version: 3,
        file: 'main.js',
        sources: ['../src/features/messages/plugin.ts', '../../../node_modules/.pnpm/ws@8.18.0/node_modules/ws/lib/sender.js'],
        names: ['sendMessage', 'frame'],
        mappings: 'AAAAA,KCAAC',
      }),
    );
    const url = pathToFileURL(bundle).href;
    const profiles = path.join(root, 'profiles');
    mkdirSync(profiles);
    writeFileSync(
      path.join(profiles, 'node-1.cpuprofile'),
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
          { id: 2, callFrame: { functionName: 'a', url, lineNumber: 0, columnNumber: 0 }, children: [3] },
          { id: 3, callFrame: { functionName: 'b', url, lineNumber: 0, columnNumber: 5 } },
        ],
        startTime: 0,
        endTime: 4000,
        samples: [3, 3, 3, 2],
        timeDeltas: [1000, 1000, 1000, 1000],
      }),
    );

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SUMMARIZE, profiles], { cwd: path.join(__dirname, '..') });
    // Self time: 3 ms in the dependency, 1 ms in our code (samples of 1 ms).
    expect(stdout).toMatch(/ 75\.0 %\s+75\.0 %busy {2}ws\n/);
    expect(stdout).toMatch(/ 25\.0 %\s+25\.0 %busy {2}@chat\/server\n/);
    expect(stdout).toMatch(/75\.0 %busy {2}frame ws\/lib\/sender\.js:1\n/);
    // Inclusive: our function with the dependency it called, 4 ms of 4.
    expect(stdout).toMatch(/100\.0 %busy {2}sendMessage server\/features\/messages\/plugin\.ts:1\n/);
    expect(stdout).not.toContain('main.js');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
