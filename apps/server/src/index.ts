export { buildApp, type AppOverrides } from './app';
export { loadConfig, ConfigError, type Config } from './config';
