/**
 * Loaded into every benchmark node with `--require` (load/load-target.ts). On SIGWINCH it runs a full garbage
 * collection and then writes `process.memoryUsage()` with a running count to `<CHAT_GC_REPORT_DIR>/<pid>.json`
 * (written whole, then renamed into place). The benchmark signals the nodes and waits for the count to move,
 * so memory per socket is read without the collector's timing in it. `gc` is taken from a fresh context after
 * turning on --expose-gc at run time (NODE_OPTIONS and the nodes' command line stay as in production; an
 * inspector session that disconnected from inside its own callback hung the process on Node 20). SIGWINCH:
 * nothing else in a node uses it (SIGUSR1 opens the inspector; SIGUSR2 is the CPU profile's).
 */
'use strict';
const { renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

const dir = process.env.CHAT_GC_REPORT_DIR;
if (dir) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  let count = 0;
  process.on('SIGWINCH', () => {
    gc();
    const file = path.join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ count: ++count, ...process.memoryUsage() }));
    renameSync(`${file}.tmp`, file);
  });
}
