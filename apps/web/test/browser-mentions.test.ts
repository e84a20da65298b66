import { ChatSocket, HttpApi, Session } from '@chat/client';
import type { Browser } from 'playwright-core';
import { spawnNode, waitUntil, type StandaloneNode } from '@chat/testkit';
import { PASSWORD, bubble, composer, createRoom, roomHeading, signUp } from './support/app-driver';
import { DESKTOP, launchBrowser } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * Mentions, formatting and notifications in the web app (issue 10, parts 4 and 6) in Chromium against a
 * real node. The browser grants the notification permission; what it would show on the desktop (the
 * operating system's part, out of our hands) is recorded by a stand-in for `Notification`, and the tab is
 * made hidden by overriding `document.visibilityState`, as a user switching tabs would.
 */

const suffix = Math.random().toString(36).slice(2, 7);

const RECORD_NOTIFICATIONS = () => {
  const w = window as unknown as { __notes: { title: string; body: string }[]; __setHidden: (h: boolean) => void; Notification: unknown };
  w.__notes = [];
  const real = window.Notification;
  class Recorded {
    static get permission() {
      return real.permission;
    }
    static requestPermission() {
      return real.requestPermission();
    }
    onclick: unknown = null;
    constructor(title: string, options?: { body?: string }) {
      w.__notes.push({ title, body: options?.body ?? '' });
    }
    close() {}
  }
  w.Notification = Recorded;
  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  w.__setHidden = (h: boolean) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  };
};

describe('web app: mentions, formatting, notifications', () => {
  let node: StandaloneNode;
  let browser: Browser;

  beforeAll(async () => {
    const dist = ensureWebBuild();
    [node, browser] = await Promise.all([spawnNode({ env: { WEB_DIST_DIR: dist } }), launchBrowser()]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await node?.dispose();
  });

  test('@ completes a member, formatting renders as text-safe elements, a mention counts apart and notifies a hidden tab; a muted room stays quiet', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, permissions: ['notifications'] });
    await context.addInitScript(RECORD_NOTIFICATIONS);
    const a = await context.newPage();
    const errors: string[] = [];
    a.on('pageerror', (err) => errors.push(err.message));
    const anon = new HttpApi({ baseUrl: node.url });
    const bobSession = new Session({ api: anon });
    const { user: bobUser } = await bobSession.register({ username: `mbob_${suffix}`, password: PASSWORD, displayName: 'Bobby' });
    const bobApi = anon.withAuth(bobSession);
    const bob = new ChatSocket({ url: node.url, auth: bobSession });
    const got: string[] = [];
    bob.on('message', (m) => got.push(m.content));
    const notes = () => a.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);
    const setHidden = (h: boolean) => a.evaluate((value) => (window as unknown as { __setHidden: (v: boolean) => void }).__setHidden(value), h);
    try {
      const aliceName = `malice_${suffix}`;
      await signUp(a, node.url, aliceName, 'Alice');
      const room = `Mentions ${suffix}`;
      await createRoom(a, room);
      const roomId = decodeURIComponent((await a.evaluate(() => window.location.hash)).replace('#/rooms/', ''));
      await bobApi.joinRoom(roomId);

      // "@" and a prefix offer the matching members; Enter takes the highlighted one.
      await composer(a).pressSequentially('hey @mb');
      const options = a.getByRole('listbox', { name: 'Mention someone' }).getByRole('option');
      await options.filter({ hasText: 'Bobby' }).waitFor();
      await composer(a).press('Enter');
      expect(await composer(a).inputValue()).toBe(`hey @${bobUser.username} `);
      await composer(a).pressSequentially('look **here** and `code`');
      await composer(a).press('Enter');
      const sent = `hey @${bobUser.username} look **here** and \`code\``;
      await waitUntil(async () => got.includes(sent), { description: 'Bob receiving the message with the mention' });
      const mine = bubble(a, `hey @${bobUser.username} look here and code`);
      await mine.locator('strong', { hasText: 'here' }).waitFor();
      expect(await mine.locator('code').allTextContents()).toEqual(['code']);
      expect(await mine.locator(`[data-mention="${bobUser.username}"]`).count()).toBe(1);

      // Desktop notifications are asked for on a click, not on load.
      expect(await notes()).toEqual([]);
      await a.getByRole('button', { name: 'Account' }).click();
      await a.getByRole('button', { name: 'Turn on desktop notifications' }).click();
      await a.getByText('Desktop notifications are on', { exact: false }).waitFor();
      await a.getByRole('button', { name: 'Account' }).click();

      // A mention in a room not on screen: its own count beside the unread one.
      await createRoom(a, `Elsewhere ${suffix}`);
      const formatted = `@${aliceName} see *this*\n> quoted line\n\`\`\`\n<b>raw</b> *not italic*\n\`\`\``;
      await bob.sendMessage({ id: crypto.randomUUID(), roomId, content: formatted });
      const roomButton = a.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: room });
      await roomButton.getByLabel('1 mention').waitFor();
      await roomButton.getByLabel('1 unread').waitFor();
      expect(await notes()).toEqual([]); // the tab is visible
      // The server counts it too: a reload keeps it.
      await a.reload();
      await roomButton.getByLabel('1 mention').waitFor();
      await roomButton.getByLabel('1 unread').waitFor();

      // Hidden tab: a mention notifies.
      await setHidden(true);
      await bob.sendMessage({ id: crypto.randomUUID(), roomId, content: `@${aliceName} are you there?` });
      await waitUntil(async () => (await notes()).length === 1, { description: 'a notification for the mention' });
      expect(await notes()).toEqual([{ title: `Bobby in #${room}`, body: `@${aliceName} are you there?` }]);
      await roomButton.getByLabel('2 mentions').waitFor();
      expect(await a.title()).toBe('(2) Chat');

      // Reading the room clears the mention count; the formatting is elements, the code block is text.
      await setHidden(false);
      await roomButton.click();
      await roomHeading(a, room).waitFor();
      await roomButton.getByLabel(/mention/).waitFor({ state: 'detached' });
      const log = a.getByRole('log', { name: 'Messages' });
      const theirs = log.locator('article').filter({ hasText: 'quoted line' });
      expect(await theirs.getAttribute('aria-label')).toContain('(mentions you)');
      expect(await theirs.locator('em').allTextContents()).toEqual(['this']);
      expect(await theirs.locator('code').allTextContents()).toEqual(['<b>raw</b> *not italic*']);
      expect(await log.locator('b').count()).toBe(0);

      // Muted: no notification and not in the tab title; a direct message still notifies.
      await a.getByRole('button', { name: 'Mute', exact: true }).click();
      await a.getByRole('button', { name: 'Muted' }).waitFor();
      await setHidden(true);
      await bob.sendMessage({ id: crypto.randomUUID(), roomId, content: `@${aliceName} muted?` });
      const aliceId = (await bobApi.searchUsers(aliceName)).users[0]!.id;
      const direct = (await bobApi.directRoom(aliceId)).room;
      await waitUntil(async () => (await a.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: 'Bobby' }).count()) > 0, {
        description: 'the direct room in Alice’s list',
      });
      await bob.sendMessage({ id: crypto.randomUUID(), roomId: direct.id, content: 'psst' });
      await waitUntil(async () => (await notes()).length === 2, { description: 'a notification for the direct message' });
      expect((await notes())[1]).toEqual({ title: 'Bobby', body: 'psst' });
      expect((await notes()).map((n) => n.body)).not.toContain(`@${aliceName} muted?`);
      await waitUntil(async () => (await a.title()) === '(1) Chat', { description: 'the title counting only the unmuted direct room' });
      expect(errors).toEqual([]);
    } finally {
      bob.close();
      await context.close();
    }
  }, 180_000);
});
