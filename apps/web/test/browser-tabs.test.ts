import type { Browser } from 'playwright-core';
import { spawnNode, type StandaloneNode } from '@chat/testkit';
import { bubble, createRoom, roomHeading, send, signUp } from './support/app-driver';
import { launchBrowser, newUserPage } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * Two tabs of one user (one browser context: one localStorage), access tokens that live 5 seconds, two
 * minutes of use in which both tabs reload at once after every expiry, so both refresh with the same stored
 * pair at the same moment (issue 9, item 4): nobody is signed out, and the server never sees a refresh token
 * presented again (its reuse alarm revokes the session).
 */

const USE_MS = 120_000;
const suffix = Math.random().toString(36).slice(2, 7);

async function metric(node: StandaloneNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('two tabs of one user with 5-second access tokens', () => {
  let node: StandaloneNode;
  let browser: Browser;

  beforeAll(async () => {
    const dist = ensureWebBuild();
    [node, browser] = await Promise.all([spawnNode({ env: { WEB_DIST_DIR: dist, ACCESS_TOKEN_TTL_SECONDS: '5', MESSAGES_PER_SECOND: '5000' } }), launchBrowser()]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await node?.dispose();
  });

  test('two minutes of use, refreshing together after every expiry: no sign-out, no reuse alarm', async () => {
    const tabA = await newUserPage(browser);
    const b = await tabA.context.newPage();
    const errorsB: string[] = [];
    b.on('pageerror', (err) => errorsB.push(err.message));
    const a = tabA.page;
    try {
      await signUp(a, node.url, `tabs_${suffix}`, 'Tabby');
      await createRoom(a, `tabs ${suffix}`);
      // The second tab opens the same address: the same stored session and the same room.
      await b.goto(a.url());
      await roomHeading(b, `tabs ${suffix}`).waitFor();

      const expired = (page: typeof a) =>
        page.waitForFunction(
          () => {
            const raw = localStorage.getItem('chat.tokens');
            if (!raw) return false;
            const { accessToken } = JSON.parse(raw) as { accessToken: string };
            const payload = JSON.parse(atob(accessToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number };
            return payload.exp * 1000 < Date.now();
          },
          undefined,
          { timeout: 15_000, polling: 200 },
        );

      const started = Date.now();
      let rounds = 0;
      while (Date.now() - started < USE_MS) {
        rounds++;
        await send(a, `from A ${rounds}`);
        await bubble(b, `from A ${rounds}`).waitFor();
        await send(b, `from B ${rounds}`);
        await bubble(a, `from B ${rounds}`).waitFor();
        // Once the stored access token has expired, both tabs load again at the same moment: each asks the
        // server with the expired token, is refused, and refreshes with the same stored refresh token.
        await expired(a);
        await Promise.all([a.reload(), b.reload()]);
        await Promise.all([roomHeading(a, `tabs ${suffix}`).waitFor(), roomHeading(b, `tabs ${suffix}`).waitFor()]);
      }

      expect(rounds).toBeGreaterThanOrEqual(8);
      for (const page of [a, b]) await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await bubble(a, `from B ${rounds}`).waitFor();
      await bubble(b, `from A ${rounds}`).waitFor();
      expect(await metric(node, 'chat_refresh_reuse_total')).toBe(0);
      console.log(`tabs: ${rounds} rounds in ${Math.round((Date.now() - started) / 1000)} s; refreshes answered within the grace window: ${await metric(node, 'chat_refresh_grace_total')}`);
      expect(tabA.errors).toEqual([]);
      expect(errorsB).toEqual([]);
    } finally {
      await tabA.context.close();
    }
  }, 240_000);
});
