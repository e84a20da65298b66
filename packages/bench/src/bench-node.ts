import { buildApp, loadConfig, type Config } from '@chat/server';

// Typed through buildApp, so this package needs no direct dependency on fastify.
type App = Awaited<ReturnType<typeof buildApp>>;

export interface BenchNode {
  app: App;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/**
 * One real backend node in this process, on 127.0.0.1 and a free port, configured for measurement:
 * silent logs (logging every request would measure pino) and a send limit far above any load we offer.
 */
export async function startBenchNode(databaseUrl: string, env: Record<string, string> = {}): Promise<BenchNode> {
  const config: Config = {
    ...loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      NODE_ID: `bench-${process.pid}`,
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      MESSAGES_PER_SECOND: '1000000',
      ...env,
    }),
    webDistDir: undefined,
    // Sign-ups are set-up, not the thing measured: the OWASP cost would only make set-up slow.
    argon2: { memoryCost: 4096, timeCost: 1, parallelism: 1 },
  };
  const app = await buildApp(config);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}
