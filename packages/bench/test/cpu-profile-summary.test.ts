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

/**
 * A one-line bundle `<root>/apps/server/dist/main.js` with its source map: generated column 0 → our
 * plugin.ts, function sendMessage; column 5 → the ws package's sender.js, function frame.
 */
function writeBundle(root: string): string {
  const dist = path.join(root, 'apps/server/dist');
  mkdirSync(dist, { recursive: true });
  const bundle = path.join(dist, 'main.js');
  writeFileSync(bundle, 'function a(){b()}function b(){}\n');
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
  return bundle;
}

test('frames of a bundle are summed under their original package, file and function', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'profile-summary-'));
  try {
    const bundle = writeBundle(root);
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

// `--heap-prof` writes V8 sampling heap profiles: a tree of frames, each with the bytes allocated there, and
// scripts named by path (not by URL as in CPU profiles).
test('a heap profile is summed in bytes allocated, by area, function and our inclusive allocation, through the source map', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'heap-summary-'));
  try {
    const bundle = writeBundle(root);
    const frame = (functionName: string, columnNumber: number) => ({ functionName, url: bundle, lineNumber: 0, columnNumber });
    const profiles = path.join(root, 'profiles');
    mkdirSync(profiles);
    writeFileSync(
      path.join(profiles, 'node-1-1-1.heapprofile'),
      JSON.stringify({
        head: {
          callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 },
          selfSize: 0,
          children: [{ callFrame: frame('a', 0), selfSize: 1_000_000, children: [{ callFrame: frame('b', 5), selfSize: 3_000_000 }] }],
        },
        samples: [],
      }),
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SUMMARIZE, profiles], { cwd: path.join(__dirname, '..') });
    expect(stdout).toContain('1 heap profile(s), 4.0 MB allocated');
    expect(stdout).toMatch(/3\.0 MB\s+75\.0 % {2}ws\n/);
    expect(stdout).toMatch(/1\.0 MB\s+25\.0 % {2}@chat\/server\n/);
    expect(stdout).toMatch(/3\.0 MB\s+75\.0 % {2}frame ws\/lib\/sender\.js:1\n/);
    // Inclusive: our function with what the dependency allocated under it.
    expect(stdout).toMatch(/4\.0 MB\s+100\.0 % {2}sendMessage server\/features\/messages\/plugin\.ts:1\n/);
    expect(stdout).not.toContain('main.js');
    expect(stdout).not.toContain('s sampled');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// The preload writes `<profile>.cpu.json` beside each CPU profile: the CPU the process used in the same window.
// Samples are wall time, so busy samples above it are waits for a core, which the summary says.
test('the processes own CPU is printed beside the busy samples when every profile has its .cpu.json', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'profile-cpu-'));
  try {
    const write = (name: string) =>
      writeFileSync(
        path.join(root, `${name}.cpuprofile`),
        JSON.stringify({
          nodes: [
            { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 3] },
            { id: 2, callFrame: { functionName: 'writev', url: '', lineNumber: -1, columnNumber: -1 } },
            { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
          ],
          startTime: 0,
          endTime: 6000,
          samples: [2, 2, 3, 2, 2, 3],
          timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
        }),
      );
    write('node-1-10-1');
    write('node-2-11-1');
    writeFileSync(path.join(root, 'node-1-10-1.cpu.json'), JSON.stringify({ userMicros: 1500, systemMicros: 500 }));
    const run = async () => (await promisify(execFile)(process.execPath, ['--import', 'tsx', SUMMARIZE, root], { cwd: path.join(__dirname, '..') })).stdout;

    // One profile without its .cpu.json: no CPU figure rather than half of one.
    const partial = await run();
    expect(partial).toContain('2 profile(s), 0.0 s sampled, 0.0 s busy (not idle)');
    expect(partial).not.toContain('own CPU');

    // Both: 8 ms busy against 4 ms of CPU (2 + 2).
    writeFileSync(path.join(root, 'node-2-11-1.cpu.json'), JSON.stringify({ userMicros: 2000, systemMicros: 0 }));
    const both = await run();
    expect(both).toContain("the processes' own CPU over the same windows: 0.0 s (process.cpuUsage, all threads); busy samples are 2.00x it");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
