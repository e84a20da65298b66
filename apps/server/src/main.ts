import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { Server } from 'socket.io';
import { buildApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { drain } from './lifecycle/drain';
import { keepRunningOnUnhandledRejections } from './lifecycle/unhandled-rejections';

/**
 * The node's process entry.
 *
 * - WORKERS=1 (default): one process listens, and on SIGTERM/SIGINT drains (lifecycle/drain.ts), finishes
 *   in-flight commits and exits.
 * - WORKERS=n: the primary process listens and hands each connection to one of n workers with
 *   @socket.io/sticky (a Socket.IO session always reaches the worker that owns it); the workers are joined by
 *   the Redis adapter like separate nodes, each with its own id `<NODE_ID>-w<i>`. A worker that dies is
 *   replaced; SIGTERM stops the listener, then drains every worker.
 */
function load(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

async function single(config: Config): Promise<void> {
  const app = await buildApp(config);
  keepRunningOnUnhandledRejections(app.log, () => app.metrics.unhandledRejections.inc());
  await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
  app.log.info({ mode: config.database.kind === 'pglite' ? 'embedded' : 'cluster' }, 'chat node ready');
  onStopSignal(async () => {
    app.log.info('draining');
    await drain(app, { windowMs: config.drainWindowMs });
    await app.close();
  }, (err) => app.log.error({ err }, 'shutdown failed'));
}

async function worker(config: Config): Promise<void> {
  const index = process.env.CHAT_WORKER_INDEX ?? String(cluster.worker?.id ?? 0);
  const app = await buildApp({ ...config, nodeId: `${config.nodeId}-w${index}` });
  keepRunningOnUnhandledRejections(app.log, () => app.metrics.unhandledRejections.inc());
  // Connections arrive from the primary; this server never listens itself.
  const { setupWorker } = await loadSticky();
  setupWorker(app.io as unknown as Server);
  await app.ready();
  process.send?.({ type: 'chat:ready' });
  app.log.info({ worker: index }, 'chat worker ready');
  // Ctrl-C reaches the whole process group: a worker leaves SIGINT to the primary, which sends SIGTERM.
  process.on('SIGINT', () => {});
  onStopSignal(
    async () => {
      await drain(app, { windowMs: config.drainWindowMs });
      await app.close();
    },
    (err) => app.log.error({ err }, 'worker shutdown failed'),
    ['SIGTERM'],
  );
}

/** Only with WORKERS > 1: a single-process node does not load it at start. */
const loadSticky = () => import('@socket.io/sticky');

async function primary(config: Config): Promise<void> {
  const { setupMaster } = await loadSticky();
  const httpServer = createServer();
  // The first chunk of each connection travels to its worker with the socket handle: as a Buffer, which
  // needs the structured-clone ("advanced") IPC serialization.
  cluster.setupPrimary({ serialization: 'advanced' });
  setupMaster(httpServer, { loadBalancingMethod: 'least-connection' });
  let stopping = false;
  const fork = (index: number) => {
    // Workers share the node's id (each adds -w<i>): the per-node admission budget and logs name the host.
    const w = cluster.fork({ CHAT_WORKER_INDEX: String(index), NODE_ID: config.nodeId });
    w.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`worker ${index} exited (${signal ?? code}); starting another`);
      fork(index);
    });
    return w;
  };
  const workers = Array.from({ length: config.workers }, (_, i) => fork(i));
  let ready = 0;
  for (const w of workers) {
    w.on('message', (msg: { type?: string }) => {
      if (msg?.type === 'chat:ready' && ++ready === config.workers) {
        httpServer.listen(config.port, config.host, config.listenBacklog, () => console.log(`chat node ${config.nodeId} listening with ${config.workers} workers`));
      }
    });
  }
  onStopSignal(async () => {
    stopping = true;
    httpServer.close();
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
  }, (err) => console.error('shutdown failed', err));
}

/** Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal exits at once. */
function onStopSignal(stop: () => Promise<void>, onError: (err: unknown) => void, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        onError(err);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, handler);
}

const config = load();
if (config.workers > 1 && cluster.isPrimary) void primary(config);
else if (config.workers > 1) void worker(config);
else void single(config);
