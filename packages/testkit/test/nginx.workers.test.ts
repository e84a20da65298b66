import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childPids, nginxWorkersFor, startNginx, type NginxServer } from '../src/index';

// NGINX cannot raise its open-files limit here (no CAP_SYS_RESOURCE), so runs with thousands of clients
// spread them over enough worker processes: two descriptors per proxied client, a quarter in reserve.

test('worker processes follow the clients and the open-files limit NGINX inherits', () => {
  expect(nginxWorkersFor(1000, 20_000)).toBe(1);
  expect(nginxWorkersFor(5000, 20_000)).toBe(1);
  // One worker at 20,000 descriptors held 9,995 of 10,000 clients.
  expect(nginxWorkersFor(10_000, 20_000)).toBe(2);
  expect(nginxWorkersFor(20_000, 20_000)).toBe(3);
  expect(nginxWorkersFor(10_000, 1_048_576)).toBe(1);
  expect(nginxWorkersFor(1_000_000, 1024)).toBe(8);
});

describe('NGINX with several workers', () => {
  let upstream: Server;
  let nginx: NginxServer | undefined;
  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });

  test('starts that many workers, and every one proxies', async () => {
    const { port } = upstream.address() as AddressInfo;
    nginx = await startNginx({ upstreams: [`127.0.0.1:${port}`], workerProcesses: nginxWorkersFor(10_000, 20_000) });
    expect(childPids(nginx.pid!)).toHaveLength(2);
    // reuseport hashes connections over the workers' sockets: many fresh connections all answered.
    const answers = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${nginx!.url}/api/x`, { headers: { connection: 'close' } })).text()));
    expect(new Set(answers)).toEqual(new Set(['upstream']));
  });
});
