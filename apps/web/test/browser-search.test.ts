import { ChatSocket, HttpApi, Session } from '@chat/client';
import type { Browser } from 'playwright-core';
import { startCluster, withPgClient, type Cluster } from '@chat/testkit';
import { PASSWORD, bubble, createRoom, roomHeading, signUp } from './support/app-driver';
import { launchBrowser, newUserPage } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * Search in the web app (issue 10, part 3), on a one-node cluster so the test can age messages in
 * PostgreSQL: a message from three weeks and a hundred messages back is found, shown with its words
 * marked, and opened in its room with the messages around it loaded (not the latest page), briefly
 * highlighted; then back to the live end of the room.
 */

const suffix = Math.random().toString(36).slice(2, 7);

describe('web app: search', () => {
  let cluster: Cluster;
  let browser: Browser;

  beforeAll(async () => {
    const webRoot = ensureWebBuild();
    [cluster, browser] = await Promise.all([
      startCluster({ nodes: 1, webRoot, env: { MESSAGES_PER_SECOND: '1000' }, timeoutMs: 180_000 }),
      launchBrowser(),
    ]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  test('finds a message from weeks back and opens it in context, highlighted; matches are marked as text', async () => {
    const alice = await newUserPage(browser);
    const a = alice.page;
    const url = cluster.entryUrl;
    const anon = new HttpApi({ baseUrl: url });
    const bobSession = new Session({ api: anon });
    await bobSession.register({ username: `sbob_${suffix}`, password: PASSWORD, displayName: 'Bob' });
    const bob = new ChatSocket({ url, auth: bobSession });
    try {
      await signUp(a, url, `salice_${suffix}`, 'Alice');
      const room = `Archive ${suffix}`;
      await createRoom(a, room);
      const roomId = decodeURIComponent((await a.evaluate(() => window.location.hash)).replace('#/rooms/', ''));
      await anon.withAuth(bobSession).joinRoom(roomId);

      const texts = ['filler 0', 'the quarterly zebra plan', '<i>zebra</i> crossing', ...Array.from({ length: 120 }, (_, i) => `filler ${i + 1}`)];
      for (const content of texts) await bob.sendMessage({ id: crypto.randomUUID(), roomId, content });
      // The first messages were written three weeks ago.
      await withPgClient(cluster.postgres.primaryUrl, (client) =>
        client.query(`update messages set created_at = now() - interval '21 days' where room_id = $1 and seq <= 10`, [roomId]),
      );
      await cluster.postgres.waitForReplicaCatchUp();
      await bubble(a, 'filler 120').waitFor();

      await a.getByRole('button', { name: 'Search', exact: true }).click();
      await a.getByLabel('Search messages').fill('zebra');
      const results = a.getByRole('list', { name: 'Search results' }).getByRole('listitem');
      await results.nth(1).waitFor();
      expect(await results.count()).toBe(2);
      // Matched words are marked; a message's own markup stays text.
      expect(await results.locator('mark').allTextContents()).toEqual(['zebra', 'zebra']);
      expect(await results.locator('i, b').count()).toBe(0);
      await results.filter({ hasText: 'crossing' }).waitFor();
      const plan = results.filter({ hasText: 'quarterly' });
      expect(await plan.getByText('Bob', { exact: true }).count()).toBe(1);
      const shown = Date.parse((await plan.locator('time').getAttribute('datetime'))!);
      expect(Date.now() - shown).toBeGreaterThan(20 * 24 * 3600_000);

      await plan.getByRole('button').click();
      const focused = bubble(a, 'the quarterly zebra plan');
      await focused.waitFor();
      expect(await a.evaluate(() => window.location.hash)).toMatch(/\/at\/2$/);
      expect(await a.locator('[data-focused="true"]').filter({ hasText: 'the quarterly zebra plan' }).count()).toBe(1);
      // Its context: what came just before and after, not the latest page.
      await bubble(a, 'filler 0').waitFor();
      await bubble(a, 'filler 20').waitFor();
      expect(await bubble(a, 'filler 120').count()).toBe(0);
      // Later messages on request; the highlight goes after a moment.
      await a.getByRole('button', { name: 'Later messages' }).click();
      await bubble(a, 'filler 40').waitFor();
      await a.locator('[data-focused="true"]').waitFor({ state: 'detached' });

      // Back to the live end of the room.
      await a.getByRole('button', { name: 'Jump to the latest messages' }).click();
      await bubble(a, 'filler 120').waitFor();
      await roomHeading(a, room).waitFor();
      expect(await a.evaluate(() => window.location.hash)).not.toContain('/at/');
      expect(alice.errors).toEqual([]);
    } finally {
      bob.close();
      await alice.context.close();
    }
  }, 240_000);
});
