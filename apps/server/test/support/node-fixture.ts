import type { Hello } from '@chat/protocol';
import type { Config } from '../../src/index';
import { BACKENDS, connectRaw, createDataHome, startNode, type Backend, type DataHome, type RawSocket, type TestNode } from './harness';

// The fixture of the contract suites, "a node on each backend": called inside a describe block, it
// registers that block's beforeAll/afterAll, so a suite declares what it needs and never writes the
// start-and-stop steps itself.

type Cleanup = () => Promise<void> | void;

// A node's first start on PGlite (WASM compile, migrations) takes tens of seconds on a busy 2-core machine:
// more than jest's 60 s default for a hook when other suites run beside it.
const NODE_START_TIMEOUT_MS = 180_000;

/** A data home that lives as long as the describe block it was made in. */
export interface HomeFixture extends Pick<DataHome, 'backend' | 'config' | 'replicaCaughtUp'> {
  /** Runs when the block ends, before the home is disposed of; the last one added runs first. */
  onDispose(cleanup: Cleanup): void;
}

/** A data home (see createDataHome) made before the block's tests and disposed of after them. */
export function useDataHome(backend: Backend): HomeFixture {
  let home: DataHome | undefined;
  const cleanups: Cleanup[] = [];
  beforeAll(async () => {
    home = await createDataHome(backend);
  });
  afterAll(async () => {
    try {
      for (const cleanup of cleanups.reverse()) await cleanup();
    } finally {
      await home?.dispose();
    }
  });
  return {
    backend,
    config(extra) {
      if (!home) throw new Error(`the ${backend} data home is made in beforeAll: use it in hooks and tests`);
      return home.config(extra);
    },
    replicaCaughtUp() {
      if (!home) throw new Error(`the ${backend} data home is made in beforeAll: use it in hooks and tests`);
      return home.replicaCaughtUp();
    },
    onDispose: (cleanup) => void cleanups.push(cleanup),
  };
}

export interface NodeFixtureOptions {
  /** Environment for the node, over the harness's defaults. */
  env?: Record<string, string>;
  /** Changes the configuration the harness derives (e.g. back to the production argon2 cost). */
  adjust?: (config: Config) => Config;
}

/** A node started before the block's tests; `app` and `url` are read once it runs. */
export interface NodeFixture extends TestNode, Pick<DataHome, 'replicaCaughtUp'> {
  /** A raw socket (see connectRaw) that is closed when the block ends. */
  connect(token: string, extra?: Record<string, unknown>): Promise<{ socket: RawSocket; hello: Hello }>;
}

/** A node on `on` (a data home of the block, or a new one on that backend), stopped when the block ends. */
export function useNode(on: Backend | HomeFixture, { env, adjust }: NodeFixtureOptions = {}): NodeFixture {
  const home = typeof on === 'string' ? useDataHome(on) : on;
  let node: TestNode | undefined;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    node = await startNode(home, env, adjust);
  }, NODE_START_TIMEOUT_MS);
  home.onDispose(async () => {
    for (const socket of sockets) socket.close();
    await node?.close();
  });
  const started = (): TestNode => {
    if (!node) throw new Error('the node starts in beforeAll: use it in hooks and tests');
    return node;
  };
  const fixture: NodeFixture = {
    get app() {
      return started().app;
    },
    get url() {
      return started().url;
    },
    close: () => started().close(),
    replicaCaughtUp: () => home.replicaCaughtUp(),
    async connect(token, extra) {
      const connection = await connectRaw(fixture, token, extra);
      sockets.push(connection.socket);
      return connection;
    },
  };
  return fixture;
}

/**
 * A contract suite: `body` runs as `<title> on pglite` and `<title> on postgres` (primary + streaming
 * replica), each with a node of its own on a data home of its own.
 */
export function describeOnEachBackend(title: string, options: NodeFixtureOptions, body: (node: NodeFixture) => void): void {
  describe.each(BACKENDS)(`${title} on %s`, (backend) => body(useNode(backend, options)));
}
