import type { PostgresCluster } from '../postgres';
import type { RedisServer } from '../redis';

/** What global setup started, for global teardown (jest runs both in one process and one global scope). */
export interface StartedServices {
  postgres?: PostgresCluster;
  redis?: RedisServer;
  /** Environment variables set by setup, removed by teardown so a watch-mode rerun starts fresh servers. */
  envSet: string[];
}

const KEY = '__chatTestkitServices';

export function saveStartedServices(services: StartedServices): void {
  (globalThis as Record<string, unknown>)[KEY] = services;
}

export function takeStartedServices(): StartedServices | undefined {
  const globals = globalThis as Record<string, unknown>;
  const services = globals[KEY] as StartedServices | undefined;
  delete globals[KEY];
  return services;
}
