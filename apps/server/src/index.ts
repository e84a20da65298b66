export { buildApp, type AppOverrides } from './app';
export { loadConfig, ConfigError, type Config } from './config';
// The group-commit write path's statements, for the benchmark to measure the real thing.
export { advanceOwnCursors, allocateSeqBlocks } from './features/messages/write-statements';
