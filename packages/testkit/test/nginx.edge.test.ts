import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { REPO_ROOT, startNginx, type NginxServer, type StartNginxOptions } from '../src/index';
import { makeTempDir, removeDir } from '../src/temp-dir';

// The public entry point's own duties (issue 9, items 1, 5 and 6), with the real NGINX and the repository's
// template: the client address taken only from trusted hops and hashed on, the per-address wall
// (connections, API rate) answered in the protocol's JSON, security headers on every answer, and TLS with
// a plain-HTTP redirect. The upstreams are small HTTP servers in this process that report what NGINX sent
// them: what is tested here is NGINX, not the node.

interface Seen {
  upstream: string;
  forwardedFor: string | undefined;
  realIp: string | undefined;
  requestId: string | undefined;
}

interface Upstream {
  name: string;
  address: string;
  server: Server;
  /** Requests to /api/hold are kept open until this is called. */
  releaseHeld(): void;
}

async function startUpstream(name: string): Promise<Upstream> {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/api/hold') {
      held.push(res);
      return;
    }
    const seen: Seen = { upstream: name, forwardedFor: req.headers['x-forwarded-for'] as string | undefined, realIp: req.headers['x-real-ip'] as string | undefined, requestId: req.headers['x-request-id'] as string | undefined };
    // What a node sends with every answer: NGINX must send its own copy instead (one each).
    res.setHeader('Content-Security-Policy', "default-src 'none'");
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    releaseHeld: () => held.splice(0).forEach((res) => res.end('{}')),
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(url: string, path: string, { source = '127.0.0.1', headers = {} }: { source?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const target = new URL(path, url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { localAddress: source, headers, agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.end();
  });
}

const seen = async (answer: Promise<Answer>): Promise<Seen> => {
  const a = await answer;
  expect(a.status).toBe(200);
  return JSON.parse(a.body) as Seen;
};

const CSP = /add_header Content-Security-Policy "([^"]+)"/.exec(readFileSync(join(REPO_ROOT, 'nginx/security-headers.conf'), 'utf8'))![1]!;

describe('NGINX at the edge', () => {
  const upstreams: Upstream[] = [];
  const started: NginxServer[] = [];
  let webRoot: string;

  beforeAll(async () => {
    upstreams.push(await startUpstream('a'), await startUpstream('b'));
    webRoot = makeTempDir('chat-nginx-web-');
    execFileSync('sh', ['-c', `echo '<!doctype html><title>chat</title>' > ${webRoot}/index.html`]);
  });
  afterAll(async () => {
    for (const nginx of started) await nginx.stop();
    for (const u of upstreams) {
      u.releaseHeld();
      u.server.closeAllConnections();
      await new Promise((resolve) => u.server.close(resolve));
    }
    removeDir(webRoot);
  });

  const nginx = async (options: Partial<StartNginxOptions> = {}) => {
    const server = await startNginx({ upstreams: upstreams.map((u) => u.address), webRoot, ...options });
    started.push(server);
    return server;
  };

  test('without a trusted hop, the connection is the client: a client-written X-Forwarded-For is dropped', async () => {
    const edge = await nginx();
    const s = await seen(call(edge.url, '/api/echo', { source: '127.0.3.1', headers: { 'X-Forwarded-For': '203.0.113.7' } }));
    expect(s).toMatchObject({ forwardedFor: '127.0.3.1', realIp: '127.0.3.1' });
  });

  test("every request gets NGINX's own request id, passed to the node and written in the access log", async () => {
    const edge = await nginx();
    const first = await seen(call(edge.url, '/api/echo?n=1', { headers: { 'X-Request-Id': 'client-chosen' } }));
    const second = await seen(call(edge.url, '/api/echo?n=2'));
    expect(first.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.requestId).not.toBe(first.requestId);
    const log = readFileSync(edge.accessLog, 'utf8');
    expect(log).toContain(`"GET /api/echo?n=1 HTTP/1.1" 200`);
    expect(log.split('\n').find((line) => line.includes('/api/echo?n=1'))).toMatch(new RegExp(`req=${first.requestId}$`));
  });

  test('behind a trusted hop, the client is the address that hop names, and the node is told only that', async () => {
    const edge = await nginx({ realIpFrom: ['127.0.0.0/24'] });
    // The hop appended the client's address to whatever the client sent: the rightmost untrusted one counts.
    const s = await seen(call(edge.url, '/api/echo', { source: '127.0.0.1', headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' } }));
    expect(s).toMatchObject({ forwardedFor: '203.0.113.7', realIp: '203.0.113.7' });
    // A connection from outside the trusted range is the client itself, whatever it writes.
    const direct = await seen(call(edge.url, '/api/echo', { source: '127.0.9.1', headers: { 'X-Forwarded-For': '203.0.113.7' } }));
    expect(direct).toMatchObject({ forwardedFor: '127.0.9.1' });
  });

  test('ip_hash keys on the client found behind the hop, not on the hop', async () => {
    const behind = await nginx({ realIpFrom: ['127.0.0.1'] });
    const plain = await nginx();
    const clients = Array.from({ length: 24 }, (_, i) => `10.${i}.7.9`);
    const via = async (edge: NginxServer) => {
      const hits: Seen[] = [];
      for (const client of clients) hits.push(await seen(call(edge.url, '/api/echo', { headers: { 'X-Forwarded-For': client } })));
      return hits;
    };
    const spread = await via(behind);
    expect(new Set(spread.map((s) => s.upstream))).toEqual(new Set(['a', 'b']));
    // Each client stays on its node.
    const again = await via(behind);
    expect(again.map((s) => s.upstream)).toEqual(spread.map((s) => s.upstream));
    // Without the trusted hop every request is the hop's address: one node takes them all.
    expect(new Set((await via(plain)).map((s) => s.upstream)).size).toBe(1);
  });

  test('API requests over the per-address rate are answered 429 RATE_LIMITED, other addresses unaffected', async () => {
    const edge = await nginx({ apiRatePerAddress: '1r/m', apiBurstPerAddress: 2 });
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i++) answers.push(await call(edge.url, '/api/echo', { source: '127.0.4.1' }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    const refused = answers[3]!;
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many requests from this address', retryAfterMs: 1000 } });
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['content-type']).toBe('application/json');
    expect((await call(edge.url, '/api/echo', { source: '127.0.5.1' })).status).toBe(200);
  });

  test('connections beyond the per-address cap are refused with 429 while the others stay open', async () => {
    const edge = await nginx({ connectionsPerAddress: 2 });
    const held = [call(edge.url, '/api/hold', { source: '127.0.6.1' }), call(edge.url, '/api/hold', { source: '127.0.6.1' })];
    // Both held requests are at the upstreams once they hold them: wait for that, bounded.
    const deadline = Date.now() + 10_000;
    let third: Answer;
    for (;;) {
      third = await call(edge.url, '/api/echo', { source: '127.0.6.1' });
      if (third.status === 429 || Date.now() > deadline) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect((await call(edge.url, '/api/echo', { source: '127.0.7.1' })).status).toBe(200);
    for (const u of upstreams) u.releaseHeld();
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    expect((await call(edge.url, '/api/echo', { source: '127.0.6.1' })).status).toBe(200);
  });

  test('every answer carries one copy of the security headers: files, proxied API answers, NGINX errors', async () => {
    const edge = await nginx({ apiRatePerAddress: '1r/m', apiBurstPerAddress: 1 });
    const page = await call(edge.url, '/rooms/abc', { source: '127.0.8.1' });
    const api = await call(edge.url, '/api/echo', { source: '127.0.8.1' });
    await call(edge.url, '/api/echo', { source: '127.0.8.1' });
    const limited = await call(edge.url, '/api/echo', { source: '127.0.8.1' });
    const health = await call(edge.url, '/nginx-healthz', { source: '127.0.8.1' });
    expect([page.status, api.status, limited.status, health.status]).toEqual([200, 200, 429, 200]);
    for (const answer of [page, api, limited, health]) {
      expect(answer.headers['content-security-policy']).toBe(CSP);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      // Not over TLS: no HSTS.
      expect(answer.headers['strict-transport-security']).toBeUndefined();
    }
    expect(CSP).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  test('with TLS: HTTPS with HSTS, and plain HTTP redirected to it', async () => {
    const dir = makeTempDir('chat-tls-');
    try {
      execFileSync('bash', [join(REPO_ROOT, 'scripts/make-dev-certificate.sh'), dir]);
      const edge = await nginx({ tls: { certificate: join(dir, 'tls.crt'), key: join(dir, 'tls.key') } });
      expect(edge.url).toMatch(/^https:/);
      const api = await call(edge.url, '/api/echo');
      expect(api.status).toBe(200);
      expect(api.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
      expect(api.headers['content-security-policy']).toBe(CSP);
      const redirected = await call(edge.httpRedirectUrl!, '/rooms/abc?x=1');
      expect(redirected.status).toBe(301);
      expect(redirected.headers.location).toBe(`https://127.0.0.1:${edge.port}/rooms/abc?x=1`);
      expect((await call(edge.httpRedirectUrl!, '/nginx-healthz')).status).toBe(200);
    } finally {
      removeDir(dir);
    }
  });
});
