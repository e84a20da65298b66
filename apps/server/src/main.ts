import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';

/** Listens, and on SIGTERM/SIGINT stops accepting, finishes in-flight commits and exits. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: config.port });
  app.log.info({ mode: config.database.kind === 'pglite' ? 'embedded' : 'cluster' }, 'chat node ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.lifecycle.draining = true;
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
