// The Artillery processor of every scenario here. The virtual users' logic is TypeScript on @chat/client
// (packages/bench/src/artillery/processor.ts); tsx compiles it when it is loaded, in each Artillery worker.
// (A `.ts` processor would also work, but Artillery bundles those with esbuild-wasm: ~20 s per run.)
const { register } = require('tsx/cjs/api');

register();
Object.assign(module.exports, require('../packages/bench/src/artillery/processor.ts'));
