/**
 * Loaded into a node process with `--require` by `pnpm bench … --cpu-prof <dir>` (NODE_OPTIONS may not carry
 * --cpu-prof, and a whole-run profile would mix start-up and sign-ups into the measured window). The first
 * SIGUSR2 starts the V8 CPU profiler through the inspector; the next writes
 * `<dir>/<NODE_ID>-<pid>-<n>.cpuprofile` and stops it. The benchmark signals the nodes at the start and end of
 * its measured window, so the profile holds exactly that window.
 */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.CHAT_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return console.error(`cpu profile: ${err.message}`);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${process.env.NODE_ID || 'node'}-${process.pid}-${++count}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
