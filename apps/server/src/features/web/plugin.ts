import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Serves the built web app at `/` when one is configured (embedded mode); NGINX does it in cluster mode. */
async function web(app: FastifyInstance): Promise<void> {
  const dir = app.config.webDistDir;
  if (!dir || !existsSync(path.join(dir, 'index.html'))) {
    app.log.info({ dir }, 'no built web app to serve');
    return;
  }
  // Loaded only here: a cluster node (NGINX serves the app) does not pay for @fastify/static and its
  // MIME database at every start.
  const { default: fastifyStatic } = await import('@fastify/static');
  await app.register(fastifyStatic, { root: dir, wildcard: false, index: 'index.html' });
}

export const webFeature = fp(web, { name: 'web' });
