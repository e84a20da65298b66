/**
 * Loaded into a node process with `--require` by `pnpm bench … --cpu-prof <dir>` or `--heap-prof <dir>`
 * (NODE_OPTIONS may not carry --cpu-prof, and a whole-run profile would mix start-up and sign-ups into the
 * measured window). The first SIGUSR2 starts the profilers through the inspector; the next writes
 * `<dir>/<NODE_ID>-<pid>-<n>.cpuprofile` (V8's CPU profiler) and `.heapprofile` (V8's sampling heap profiler)
 * and stops them. The benchmark signals the nodes at the start and end of its measured window, so the
 * profiles hold exactly that window.
 *
 * Beside each CPU profile, `<same name>.cpu.json` holds the CPU the process used over the same window
 * (`process.cpuUsage`, all its threads): a profile's samples are wall time, so on a machine short of cores its
 * busy samples exceed the CPU used by the time the process waited for one (`pnpm bench-profile` prints both).
 *
 * The heap profile keeps the samples of objects the collector freed in the window (what `--heap-prof` does not:
 * it reports what is still alive at exit, mostly start-up's modules): it says where the window's allocations
 * came from, what fills the young generation and sets the scavenges' pace.
 */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const cpuDir = process.env.CHAT_CPU_PROFILE_DIR;
const heapDir = process.env.CHAT_HEAP_PROFILE_DIR;
// Survivors only (`--heap-prof <dir> --node-env CHAT_HEAP_PROFILE_SURVIVORS=1`): the samples of objects a scavenge freed are dropped, and a scavenge
// runs just before the profile is taken, so what remains is what outlived at least one scavenge: what the young
// generation copies and promotes (its pauses), whether it died later in the old generation or is still alive.
const survivors = process.env.CHAT_HEAP_PROFILE_SURVIVORS === '1';
let minorGc;
if (heapDir && survivors) {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  minorGc = () => gc({ type: 'minor' });
}
if (cpuDir || heapDir) {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  /** `process.cpuUsage()` when the CPU profiler started. */
  let cpuAtStart;
  const write = (dir, ext, profile) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${process.env.NODE_ID || 'node'}-${process.pid}-${count}.${ext}`), JSON.stringify(profile));
  };
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      if (cpuDir) {
        session.post('Profiler.enable', () =>
          session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start', () => (cpuAtStart = process.cpuUsage()))),
        );
      }
      if (heapDir) {
        session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivors }, (err) => {
          if (err) console.error(`heap profile: ${err.message}`);
        });
      }
      return;
    }
    running = false;
    count += 1;
    if (cpuDir) {
      const used = cpuAtStart && process.cpuUsage(cpuAtStart);
      cpuAtStart = undefined;
      session.post('Profiler.stop', (err, result) => {
        if (err) return console.error(`cpu profile: ${err.message}`);
        write(cpuDir, 'cpuprofile', result.profile);
        if (used) write(cpuDir, 'cpu.json', { userMicros: used.user, systemMicros: used.system });
      });
    }
    if (heapDir) {
      minorGc?.();
      session.post('HeapProfiler.stopSampling', (err, result) => {
        if (err) return console.error(`heap profile: ${err.message}`);
        write(heapDir, 'heapprofile', result.profile);
      });
    }
  });
}
