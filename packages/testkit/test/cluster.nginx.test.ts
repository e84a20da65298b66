import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describeClusterLogs, REPO_ROOT, startCluster, waitUntil, type Cluster, type ClusterNode } from '../src/index';
import { makeTempDir, removeDir } from '../src/temp-dir';

// Three real node processes behind the real NGINX, with PostgreSQL primary + replica and Redis of their own:
// the topology of `pnpm cluster`. Clients pick their source address (127.0.K.1) to play different hosts.

/** The slice of socket.io-client this test uses. */
interface ClientSocket {
  on(event: string, listener: (...args: unknown[]) => void): ClientSocket;
  close(): ClientSocket;
}
type Io = (url: string, options: Record<string, unknown>) => ClientSocket;
// @chat/testkit has no dependency on socket.io-client; the server package has it (as a dev dependency).
const { io } = createRequire(join(REPO_ROOT, 'apps/server/package.json'))('socket.io-client') as { io: Io };

interface Hello {
  node: string;
  userId: string;
}

const SOURCES = Array.from({ length: 12 }, (_, i) => `127.0.${i + 1}.1`);

describe('startCluster: 3 nodes behind NGINX', () => {
  let cluster: Cluster;
  let webRoot: string;
  const agents = new Map<string, Agent>();
  const sockets: ClientSocket[] = [];
  /** Which node each source address landed on at first. */
  const homeNode = new Map<string, string>();
  let accessToken: string;

  const agentFor = (source: string) => {
    let agent = agents.get(source);
    if (!agent) agents.set(source, (agent = new Agent({ localAddress: source, keepAlive: true })));
    return agent;
  };

  /** One HTTP request through NGINX from `source`. */
  const call = (
    source: string,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> =>
    new Promise((resolve, reject) => {
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      const req = request(
        `${cluster.entryUrl}${path}`,
        {
          method: init.method ?? 'GET',
          agent: agentFor(source),
          headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${path} from ${source}`)));
      req.end(body);
    });

  /** The node that answers `/readyz` for `source` (through NGINX); fails on anything but 200. */
  const nodeFor = async (source: string): Promise<string> => {
    const res = await call(source, '/readyz');
    if (res.status !== 200) throw new Error(`/readyz from ${source}: ${res.status} ${res.text}`);
    return (JSON.parse(res.text) as { node: string }).node;
  };

  /** A Socket.IO client from `source` (polling, then the WebSocket upgrade, both through NGINX). */
  const connect = (source: string, extra: Record<string, unknown> = {}) => {
    const hellos: Hello[] = [];
    const waiters: { match: (h: Hello) => boolean; resolve: (h: Hello) => void }[] = [];
    const socket = io(cluster.entryUrl, { auth: { token: accessToken }, agent: agentFor(source), reconnectionDelayMax: 2000, ...extra });
    sockets.push(socket);
    socket.on('hello', (payload) => {
      const hello = payload as Hello;
      hellos.push(hello);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(hello)) waiter.resolve(hello);
        else waiters.push(waiter);
      }
    });
    /** Resolves with the first hello (already received or next) that matches. */
    const helloWhere = (match: (h: Hello) => boolean, timeoutMs = 20_000) =>
      new Promise<Hello>((resolve, reject) => {
        const seen = hellos.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error(`no matching hello from ${source} in ${timeoutMs} ms; got ${JSON.stringify(hellos)}`)),
          timeoutMs,
        );
        waiters.push({ match, resolve: (h) => (clearTimeout(timer), resolve(h)) });
      });
    return { socket, hellos, helloWhere };
  };

  beforeAll(async () => {
    webRoot = makeTempDir('chat-web-root-');
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>chat test app</title>');
    writeFileSync(join(webRoot, 'assets', 'app-1a2b3c.js'), 'console.log("chat")');
    // LOG_LEVEL info: the nodes log every request, for the request-id test.
    cluster = await startCluster({ nodes: 3, webRoot, env: { DRAIN_WINDOW_MS: '500', LOG_LEVEL: 'info' } });
    const res = await call('127.0.0.1', '/api/auth/register', {
      method: 'POST',
      body: { username: `cluster_${Date.now().toString(36)}`, password: 'correct horse battery' },
    });
    expect(res.status).toBe(201);
    accessToken = (JSON.parse(res.text) as { accessToken: string }).accessToken;
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const agent of agents.values()) agent.destroy();
    await cluster?.stop();
    if (webRoot) removeDir(webRoot);
  }, 60_000);

  const failWithLogs = async (body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n${describeClusterLogs(cluster)}\n--- nginx error log ---\n${readFileSync(cluster.nginx.errorLog, 'utf8').slice(-3000)}`);
    }
  };

  it('serves the web app with a single-page-app fallback and proxies /api, /healthz and /readyz', async () => {
    const index = await call('127.0.0.1', '/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('chat test app');
    const route = await call('127.0.0.1', '/rooms/some-room');
    expect([route.status, route.text]).toEqual([200, index.text]);
    expect(route.headers['cache-control']).toBe('no-cache');
    const asset = await call('127.0.0.1', '/assets/app-1a2b3c.js');
    expect([asset.status, asset.text]).toEqual([200, 'console.log("chat")']);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await call('127.0.0.1', '/assets/missing.js')).status).toBe(404);

    expect((await call('127.0.0.1', '/healthz')).status).toBe(200);
    expect(cluster.nodes.map((n) => n.id)).toContain(await nodeFor('127.0.0.1'));
    const me = await call('127.0.0.1', '/api/me');
    expect(me.status).toBe(401);
    expect(JSON.parse(me.text)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    // Nodes' metrics are not public.
    expect((await call('127.0.0.1', '/metrics')).status).toBe(404);
    // A body far over the limit is refused by NGINX itself, in the protocol's error shape.
    const huge = await call('127.0.0.1', '/api/auth/login', { method: 'POST', body: { username: 'x', password: 'y'.repeat(3_000_000) } });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.text)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it("one request id in NGINX's access log and in every log line of that request on the node", async () => {
    await failWithLogs(async () => {
      const marker = `/readyz?probe=${Date.now().toString(36)}`;
      const res = await call('127.0.0.1', marker);
      expect(res.status).toBe(200);
      const node = cluster.nodes.find((n) => n.id === (JSON.parse(res.text) as { node: string }).node)!;
      const accessLine = await waitUntil(
        async () => readFileSync(cluster.nginx.accessLog, 'utf8').split('\n').find((line) => line.includes(marker)),
        { timeoutMs: 10_000, description: 'the access log line of the request' },
      );
      const id = /req=([0-9a-f]{32})$/.exec(accessLine)![1]!;
      const lines = await waitUntil(
        async () => {
          const found = readFileSync(node.logFile, 'utf8').split('\n').filter((line) => line.includes(`"reqId":"${id}"`));
          return found.length >= 2 ? found : undefined;
        },
        { timeoutMs: 10_000, description: `node log lines with reqId ${id}` },
      );
      // Fastify's "incoming request" (with the URL) and "request completed" lines, both under NGINX's id.
      expect(lines.some((line) => line.includes(marker))).toBe(true);
      expect(lines.some((line) => line.includes('request completed'))).toBe(true);
    });
  });

  it('ip_hash: source addresses spread over the nodes, one source always on the same node, sockets too', async () => {
    await failWithLogs(async () => {
      for (const source of SOURCES) {
        const first = await nodeFor(source);
        homeNode.set(source, first);
        for (let i = 0; i < 3; i++) expect([source, await nodeFor(source)]).toEqual([source, first]);
      }
      expect(new Set(homeNode.values()).size).toBeGreaterThanOrEqual(2);

      // The Socket.IO handshake (long-polling) and its WebSocket upgrade land on the source's node.
      const clients = SOURCES.slice(0, 6).map((source) => ({ source, client: connect(source) }));
      for (const { source, client } of clients) {
        const hello = await client.helloWhere(() => true);
        expect([source, hello.node]).toEqual([source, homeNode.get(source)]);
      }
    });
  });

  it('NGINX stamps every handshake with when it forwarded it (X-Request-Start), replacing a stamp the client sent', async () => {
    await failWithLogs(async () => {
      const source = SOURCES[0]!;
      const home = await nodeFor(source);
      const node = cluster.nodes.find((n) => n.id === home)!;
      /** A series of the node's own metrics (scraped from the node: NGINX does not serve /metrics). */
      const series = async (prefix: string) => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(prefix));
        return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
      };
      const measured = await series('chat_handshake_queue_seconds_count');
      // A stamp from 2001: were it passed through, the node would refuse the handshake as queued too long.
      const client = connect(source, { transports: ['websocket'], extraHeaders: { 'x-request-start': 't=1000000000.000' } });
      expect((await client.helloWhere(() => true)).node).toBe(node.id);
      expect(await series('chat_handshake_queue_seconds_count')).toBe(measured + 1);
      expect(await series('chat_connections_total{outcome="QUEUED_TOO_LONG"')).toBe(0);
    });
  });

  it('a SIGKILLed node is skipped at once, and used again as soon as it is back; never "no live upstreams"', async () => {
    await failWithLogs(async () => {
      // The node holding the most sources, and clients connected to it from each of them.
      const counts = new Map<string, number>();
      for (const node of homeNode.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
      const victimId = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const victim = cluster.nodes.find((n) => n.id === victimId) as ClusterNode;
      const victimSources = SOURCES.filter((s) => homeNode.get(s) === victimId);
      const others = SOURCES.filter((s) => homeNode.get(s) !== victimId);
      const clients = victimSources.map((source) => connect(source));
      for (const client of clients) expect((await client.helloWhere(() => true)).node).toBe(victimId);

      await victim.kill('SIGKILL');
      expect(victim.pid).toBeUndefined();

      // Its clients reconnect through NGINX to the other nodes, with no change on their side.
      for (const client of clients) {
        const hello = await client.helloWhere((h) => h.node !== victimId);
        expect(cluster.nodes.map((n) => n.id)).toContain(hello.node);
      }
      // Every request succeeds meanwhile: the victim's sources go elsewhere, the others stay home.
      for (const source of victimSources) {
        for (let i = 0; i < 3; i++) expect(await nodeFor(source)).not.toBe(victimId);
      }
      for (const source of others) expect([source, await nodeFor(source)]).toEqual([source, homeNode.get(source)]);

      // Back on the same port: its sources return to it within seconds (no failure mark to wait out),
      // although the WebSockets that moved away stay open on the other nodes.
      await victim.restart();
      for (const source of victimSources) {
        await waitUntil(async () => (await nodeFor(source)) === victimId, {
          description: `${source} to be sent to the restarted ${victimId} again`,
          timeoutMs: 10_000,
          intervalMs: 100,
        });
      }
      const fresh = connect(victimSources[0]!);
      expect((await fresh.helloWhere(() => true)).node).toBe(victimId);

      // A healthy cluster answers everything, from every source, on its original node.
      for (let round = 0; round < 3; round++) {
        for (const source of SOURCES) {
          const res = await call(source, '/readyz');
          expect([source, res.status]).toEqual([source, 200]);
          expect([source, (JSON.parse(res.text) as { node: string }).node]).toEqual([source, homeNode.get(source)]);
        }
      }
      expect(readFileSync(cluster.nginx.errorLog, 'utf8')).not.toContain('no live upstreams');
    });
  });
});
