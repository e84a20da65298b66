import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@chat/testkit';
import { registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

// Every answer of a node carries the security headers (issue 9, item 6), whatever answers it: a route, an
// error, the web app in embedded mode. NGINX sends the same policy on what it serves itself.

const nginxCsp = /add_header Content-Security-Policy "([^"]+)"/.exec(readFileSync(join(REPO_ROOT, 'nginx/security-headers.conf'), 'utf8'))![1]!;

describe('security headers of a node', () => {
  const web = mkdtempSync(join(tmpdir(), 'chat-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>chat</title>');
  afterAll(() => rmSync(web, { recursive: true, force: true }));
  const node = useNode('pglite', { adjust: (config) => ({ ...config, webDistDir: web }) });

  test('on routes, errors and the web app: the same policy as NGINX, nosniff, no framing, no referrer, no HSTS', async () => {
    const user = await registerUser(node);
    const answers = await Promise.all([
      fetch(`${node.url}/api/rooms`, { headers: { authorization: `Bearer ${user.accessToken}` } }),
      fetch(`${node.url}/api/rooms`), // 401
      fetch(`${node.url}/api/no-such-route`), // 404
      fetch(`${node.url}/healthz`),
      fetch(`${node.url}/`), // the web app
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 401, 404, 200, 200]);
    for (const answer of answers) {
      expect([answer.url, answer.headers.get('content-security-policy')]).toEqual([answer.url, nginxCsp]);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      // Plain HTTP behind NGINX or on a laptop: HSTS is NGINX's, over TLS only.
      expect(answer.headers.get('strict-transport-security')).toBeNull();
    }
    expect(await answers[4]!.text()).toContain('<title>chat</title>');
  });
});
