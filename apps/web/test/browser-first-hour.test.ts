import { ChatSocket, HttpApi, Session } from '@chat/client';
import type { Browser, Locator, Page } from 'playwright-core';
import { spawnNode, waitUntil, type StandaloneNode } from '@chat/testkit';
import { PASSWORD, bubble, connectionState, createRoom, roomHeading, send, signUp, signUpForm } from './support/app-driver';
import { PHONE, launchBrowser, newUserPage, socketSwitch } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * What a new user found in their first hour with the web app (issue 10, part 8), each fixed and shown here
 * in Chromium against a real node: the unread badge of the room being read, reaching message actions by
 * touch, a session that ends, sign-up's errors, a private room's link opened by a non-member, Escape,
 * avatars, the reconnect countdown and the favicon. Other users are SDK clients, as a bot would be.
 */

const suffix = Math.random().toString(36).slice(2, 7);

interface SdkUser {
  api: HttpApi;
  session: Session;
  userId: string;
  username: string;
}

async function sdkUser(url: string, name: string, displayName: string): Promise<SdkUser> {
  const anon = new HttpApi({ baseUrl: url });
  const session = new Session({ api: anon });
  const { user } = await session.register({ username: `${name}_${suffix}`, password: PASSWORD, displayName });
  return { api: anon.withAuth(session), session, userId: user.id, username: user.username };
}

function badge(page: Page, roomName: string) {
  return page.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: roomName }).getByLabel(/unread$/);
}

function opacity(locator: Locator): Promise<string> {
  return locator.evaluate((el) => getComputedStyle(el).opacity);
}

/** The room id from the address bar (`#/rooms/<id>`). */
async function openRoomId(page: Page): Promise<string> {
  const hash = await page.evaluate(() => window.location.hash);
  return decodeURIComponent(hash.replace('#/rooms/', ''));
}

describe('web app: what a new user found in the first hour', () => {
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

  test('the unread badge of the room being opened goes away and stays away when the room list is fetched again', async () => {
    const alice = await newUserPage(browser);
    const a = alice.page;
    const bob = await sdkUser(node.url, 'ubob', 'Bob');
    try {
      await signUp(a, node.url, `ualice_${suffix}`, 'Alice');
      await createRoom(a, `Busy ${suffix}`);
      const busyId = await openRoomId(a);
      await bob.api.joinRoom(busyId);
      await createRoom(a, `Quiet ${suffix}`);

      const bobSocket = new ChatSocket({ url: node.url, auth: bob.session });
      let aliceRead = 0;
      bobSocket.on('receipt', (r) => {
        if (r.roomId === busyId && r.userId !== bob.userId) aliceRead = Math.max(aliceRead, r.readSeq);
      });
      for (const text of ['one', 'two', 'three']) await bobSocket.sendMessage({ id: crypto.randomUUID(), roomId: busyId, content: text });
      await badge(a, `Busy ${suffix}`).filter({ hasText: '3' }).waitFor();

      // Opening the room fetches the room list again at once, before the read cursor reaches the server:
      // that answer still counts three unread, and used to bring the badge back until a reload.
      const refetched = a.waitForResponse((r) => new URL(r.url()).pathname === '/api/rooms' && r.request().method() === 'GET');
      await a.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: `Busy ${suffix}` }).click();
      await refetched;
      await bubble(a, 'three').waitFor();
      await a.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      expect(await badge(a, `Busy ${suffix}`).count()).toBe(0);

      // The server agrees once the cursor is written (Bob is told): a reload shows no badge either.
      await waitUntil(async () => aliceRead === 3, { description: 'Alice’s read cursor at 3, told to Bob' });
      bobSocket.close();
      await a.reload();
      await roomHeading(a, `Busy ${suffix}`).waitFor();
      await a.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: `Quiet ${suffix}` }).waitFor();
      expect(await badge(a, `Busy ${suffix}`).count()).toBe(0);
      expect(alice.errors).toEqual([]);
    } finally {
      await alice.context.close();
    }
  }, 120_000);

  test('a private room’s link opened by a non-member asks to join; the owner approves, invites someone else, and a member leaves', async () => {
    const owner = await newUserPage(browser);
    const guest = await newUserPage(browser);
    const o = owner.page;
    const g = guest.page;
    const carol = await sdkUser(node.url, 'pcarol', 'Carol');
    try {
      await signUp(o, node.url, `powner_${suffix}`, 'Olivia');
      await signUp(g, node.url, `pguest_${suffix}`, 'Gustav');
      const room = `Hideout ${suffix}`;
      await o.getByRole('button', { name: 'New room' }).click();
      await o.getByLabel('Room name').fill(room);
      await o.getByLabel('Private').check();
      await o.getByRole('button', { name: 'Create' }).click();
      await roomHeading(o, room).waitFor();
      const roomId = await openRoomId(o);

      // The guest follows a link to it: no blank dead end, an offer to ask.
      await g.goto(`${node.url}/#/rooms/${encodeURIComponent(roomId)}`);
      await g.getByText('You are not a member of this room.').waitFor();
      await g.getByRole('button', { name: 'Ask to join' }).click();
      await g.getByText('Your request to join was sent.', { exact: false }).waitFor();

      // The owner sees the request by name in the member list and approves it; the guest is let in at once.
      await o.getByRole('button', { name: /^Members/ }).click();
      const requests = o.getByRole('region', { name: 'Requests to join' });
      await requests.getByText('Gustav').waitFor();
      await requests.getByRole('button', { name: 'Approve Gustav' }).click();
      await roomHeading(g, room).waitFor();
      await requests.waitFor({ state: 'detached' });
      const members = o.getByRole('complementary', { name: 'Members' });
      await members.getByRole('listitem').filter({ hasText: 'Gustav' }).waitFor();

      // The owner brings Carol in by username.
      await o.getByLabel('Invite someone').fill(carol.username);
      await o.getByRole('button', { name: 'Invite Carol' }).click();
      await members.getByRole('listitem').filter({ hasText: 'Carol' }).waitFor();
      expect((await carol.api.listRooms()).rooms.map((r) => r.id)).toEqual([roomId]);

      // The guest leaves: asked to confirm, then the room is gone from their list and from the owner's members.
      await g.getByRole('button', { name: /^Members/ }).click();
      await g.getByRole('button', { name: 'Leave room' }).click();
      await g.getByRole('button', { name: 'Leave', exact: true }).click();
      await g.getByText('Pick a room, or create one.').waitFor();
      expect(await g.getByRole('navigation', { name: 'Rooms' }).getByText(room).count()).toBe(0);
      await members.getByRole('listitem').filter({ hasText: 'Gustav' }).waitFor({ state: 'detached' });

      // The owner cannot leave a room others are still in: the server's refusal is shown, nothing changes.
      await o.getByRole('button', { name: 'Leave room' }).click();
      await o.getByRole('button', { name: 'Leave', exact: true }).click();
      await members.getByRole('alert').filter({ hasText: 'make another member an owner' }).waitFor();
      await roomHeading(o, room).waitFor();
      expect(owner.errors).toEqual([]);
      expect(guest.errors).toEqual([]);
    } finally {
      await owner.context.close();
      await guest.context.close();
    }
  }, 120_000);

  test('a session ended elsewhere says so, and signing in again returns to the same room', async () => {
    const dora = await newUserPage(browser);
    const d = dora.page;
    try {
      const username = `sdora_${suffix}`;
      await signUp(d, node.url, username, 'Dora');
      const room = `Return ${suffix}`;
      await createRoom(d, room);

      // Signed out everywhere from another device: this tab's socket is cut and its refresh refused.
      const other = new Session({ api: new HttpApi({ baseUrl: node.url }) });
      await other.login({ username, password: PASSWORD });
      await new HttpApi({ baseUrl: node.url }).withAuth(other).logoutEverywhere();

      await d.getByText('Your session has ended', { exact: false }).waitFor({ timeout: 30_000 });
      await d.getByLabel('Username').fill(username);
      await d.getByLabel('Password').fill(PASSWORD);
      await d.getByRole('button', { name: 'Sign in', exact: true }).click();
      await roomHeading(d, room).waitFor();
      expect(await d.getByText('Your session has ended', { exact: false }).count()).toBe(0);

      // Signing out on purpose says nothing of the kind, and leaves no room behind for the next person.
      await d.getByRole('button', { name: 'Sign out' }).click();
      await d.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await d.getByText('Your session has ended', { exact: false }).count()).toBe(0);
      expect(await d.evaluate(() => window.location.hash)).toBe('');
      expect(dora.errors).toEqual([]);
    } finally {
      await dora.context.close();
    }
  }, 120_000);

  test('sign-up shows every problem at once in plain words, before asking the server, and a taken name by its field', async () => {
    const eve = await newUserPage(browser);
    const e = eve.page;
    const registers: string[] = [];
    e.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/auth/register') registers.push(r.url());
    });
    try {
      await e.goto(node.url);
      await e.getByRole('button', { name: 'No account yet? Sign up' }).click();
      await e.getByLabel('Username').fill('Eve Smith!');
      await e.getByLabel('Password').fill('short');
      await e.getByRole('button', { name: 'Sign up', exact: true }).click();
      await e.getByText('Use only letters a–z, digits and _ (no spaces or other characters).').waitFor();
      await e.getByText('Use at least 8 characters (3 more).').waitFor();
      expect(await e.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
      expect(registers).toEqual([]);

      // The messages follow the typing.
      await e.getByLabel('Password').fill('long enough now');
      await e.getByText('Use at least 8 characters', { exact: false }).waitFor({ state: 'detached' });

      // A name someone has: said at the username field, in words.
      const taken = await sdkUser(node.url, 'taken', 'Taken');
      await e.getByLabel('Username').fill(taken.username);
      await e.getByRole('button', { name: 'Sign up', exact: true }).click();
      await e.getByText('That username is taken. Try another.').waitFor();
      expect(registers).toHaveLength(1);
      expect(eve.errors).toEqual([]);
    } finally {
      await eve.context.close();
    }
  }, 120_000);

  test('at phone width a tap or a long press opens a message’s actions, Escape closes panels and menus, others have avatars, the favicon loads', async () => {
    const context = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
    const f = await context.newPage();
    const errors: string[] = [];
    const missing: string[] = [];
    f.on('pageerror', (err) => errors.push(err.message));
    f.on('response', (r) => {
      if (r.status() === 404) missing.push(r.url());
    });
    const gus = await sdkUser(node.url, 'tgus', 'Gus');
    try {
      const icon = f.waitForResponse((r) => new URL(r.url()).pathname === '/favicon.svg');
      await signUp(f, node.url, `tfay_${suffix}`, 'Fay');
      expect((await icon).status()).toBe(200);
      const room = `Touch ${suffix}`;
      await createRoom(f, room);
      const roomId = await openRoomId(f);
      await gus.api.joinRoom(roomId);
      const gusSocket = new ChatSocket({ url: node.url, auth: gus.session });
      try {
        await gusSocket.sendMessage({ id: crypto.randomUUID(), roomId, content: 'hello from Gus' });
      } finally {
        gusSocket.close();
      }
      const message = bubble(f, 'hello from Gus');
      await message.waitFor();

      // Others' messages carry an avatar (the sender's initial).
      expect(await f.getByRole('log', { name: 'Messages' }).locator('[data-avatar]').allTextContents()).toEqual(['G']);

      // A tap opens the action bar; choosing an action closes it.
      const toolbar = message.getByRole('toolbar', { name: 'Message actions' });
      expect(await opacity(toolbar)).toBe('0');
      await message.locator('p[data-message-id]').tap();
      await waitUntil(async () => (await opacity(toolbar)) === '1', { description: 'the action bar shown' });
      await toolbar.getByRole('button', { name: 'Reply' }).tap();
      await f.getByText('Replying to', { exact: false }).waitFor();
      // Escape leaves reply mode even with the focus outside the composer.
      await f.getByRole('heading', { level: 2 }).click();
      await f.keyboard.press('Escape');
      await f.getByText('Replying to', { exact: false }).waitFor({ state: 'detached' });

      // A long press (the browser's context menu) opens it too; Escape closes it.
      await message.locator('p[data-message-id]').dispatchEvent('contextmenu');
      await waitUntil(async () => (await opacity(toolbar)) === '1', { description: 'the action bar shown' });
      await f.keyboard.press('Escape');
      await waitUntil(async () => (await opacity(toolbar)) === '0', { description: 'the action bar hidden' });

      // The member panel (full screen at this width) closes with Escape.
      await f.getByRole('button', { name: /^Members/ }).click();
      await f.getByRole('complementary', { name: 'Members' }).waitFor();
      await f.keyboard.press('Escape');
      await f.getByRole('complementary', { name: 'Members' }).waitFor({ state: 'detached' });

      // So do the sidebar's panels.
      await f.getByRole('button', { name: 'Back to rooms' }).click();
      await f.getByRole('button', { name: 'Browse rooms' }).click();
      await f.getByLabel('Search public rooms').waitFor();
      await f.getByRole('heading', { level: 1 }).click();
      await f.keyboard.press('Escape');
      await f.getByLabel('Search public rooms').waitFor({ state: 'detached' });

      expect(missing).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test('the reconnect countdown is current when the connection drops a second time', async () => {
    const hal = await newUserPage(browser);
    const h = hal.page;
    const sockets = await socketSwitch(hal.context);
    // The page's clock is the test's: time can pass while connected without the test waiting for it.
    await h.clock.install();
    try {
      await signUp(h, node.url, `chal_${suffix}`, 'Hal');
      await h.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { bannerTexts: string[] }).bannerTexts = seen;
        const status = document.querySelector('[data-connection-state]')!;
        new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { subtree: true, childList: true, characterData: true });
      });
      const cut = async () => {
        await sockets.cut();
        await h.getByRole('status').getByText(/Reconnecting|Retrying/).waitFor();
      };
      const restore = async () => {
        sockets.restore();
        await h.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);
        await waitUntil(async () => (await connectionState(h)) === 'connected', { description: 'connected again' });
      };

      await cut();
      await restore();
      // Ten minutes connected, then the second drop.
      await h.clock.setSystemTime(Date.now() + 10 * 60_000);
      await cut();
      await restore();

      const texts = await h.evaluate(() => (window as unknown as { bannerTexts: string[] }).bannerTexts);
      const waits = texts.flatMap((t) => [...t.matchAll(/in (\d+) seconds?/g)].map((m) => Number(m[1])));
      expect(waits.length).toBeGreaterThan(0);
      // The transport's back-off is capped at 5 s (plus jitter): never minutes.
      expect(Math.max(...waits)).toBeLessThanOrEqual(6);
      expect(hal.errors).toEqual([]);
    } finally {
      await hal.context.close();
    }
  }, 120_000);

  test('a first connection says Connecting… only once it has taken a second, so a quick one moves nothing on the screen', async () => {
    const ida = await newUserPage(browser);
    const i = ida.page;
    // Every change of the connection's state or banner, with the page's time, from the first render on.
    await i.addInitScript(() => {
      const seen: { t: number; state: string; text: string }[] = [];
      (window as unknown as { bannerLog: typeof seen }).bannerLog = seen;
      new MutationObserver(() => {
        const el = document.querySelector<HTMLElement>('[data-connection-state]');
        if (!el) return;
        const entry = { t: Date.now(), state: el.dataset.connectionState ?? '', text: el.textContent ?? '' };
        const last = seen.at(-1);
        if (!last || last.state !== entry.state || last.text !== entry.text) seen.push(entry);
      }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    // The first socket hangs, as over a slow network, until the test lets it through to the server.
    const held: { connectToServer: () => unknown }[] = [];
    await ida.context.routeWebSocket(/\/socket\.io\//, (ws) => {
      held.push(ws);
    });
    try {
      await signUpForm(i, node.url, `qida_${suffix}`, 'Ida');
      await i.getByRole('status').getByText('Connecting…').waitFor();
      expect(held).toHaveLength(1);
      held[0]!.connectToServer();
      await i.locator('[data-connection-state="connected"]').waitFor({ state: 'attached' });

      const log = await i.evaluate(() => (window as unknown as { bannerLog: { t: number; state: string; text: string }[] }).bannerLog);
      const connecting = log.find((e) => e.state === 'connecting');
      const shown = log.find((e) => e.text.includes('Connecting…'));
      expect(connecting).toBeDefined();
      expect(connecting!.text).toBe('');
      // A timer never fires early: the banner came a full second after the screen first said "connecting".
      expect(shown!.t - connecting!.t).toBeGreaterThanOrEqual(1_000);
      expect(log.at(-1)).toEqual(expect.objectContaining({ state: 'connected', text: '' }));
      expect(ida.errors).toEqual([]);
    } finally {
      await ida.context.close();
    }
  }, 120_000);

  test('the tab title and favicon count unread messages; presence turns unknown, not stale, while disconnected', async () => {
    const ivy = await newUserPage(browser);
    const i = ivy.page;
    const jon = await sdkUser(node.url, 'njon', 'Jon');
    const sockets = await socketSwitch(ivy.context);
    const jonSocket = new ChatSocket({ url: node.url, auth: jon.session });
    try {
      await signUp(i, node.url, `nivy_${suffix}`, 'Ivy');
      await createRoom(i, `Loud ${suffix}`);
      const loudId = await openRoomId(i);
      await jon.api.joinRoom(loudId);
      await createRoom(i, `Calm ${suffix}`);
      expect(await i.title()).toBe('Chat');
      for (const text of ['a', 'b']) await jonSocket.sendMessage({ id: crypto.randomUUID(), roomId: loudId, content: text });
      await waitUntil(async () => (await i.title()) === '(2) Chat', { description: 'the title counting two unread' });
      const href = await i.locator('link[rel="icon"]').getAttribute('href');
      expect(decodeURIComponent(href!)).toContain('>2</text>');

      // Reading the room clears both.
      await i.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: `Loud ${suffix}` }).click();
      await waitUntil(async () => (await i.title()) === 'Chat', { description: 'the plain title' });
      expect(await i.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg');

      // Jon is online in the member list; with this client cut off, his dot says unknown, then online again.
      await i.getByRole('button', { name: /^Members/ }).click();
      const jonRow = i.getByRole('complementary', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Jon' });
      await jonRow.getByRole('img', { name: 'online' }).waitFor();
      await sockets.cut();
      await jonRow.getByRole('img', { name: 'unknown' }).waitFor();
      sockets.restore();
      await i.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);
      await jonRow.getByRole('img', { name: 'online' }).waitFor({ timeout: 30_000 });
      expect(ivy.errors).toEqual([]);
    } finally {
      jonSocket.close();
      await ivy.context.close();
    }
  }, 120_000);

  test('dark mode follows the system setting, and a choice of light or dark is kept across a reload', async () => {
    const context = await browser.newContext({ viewport: PHONE, colorScheme: 'dark' });
    const k = await context.newPage();
    const errors: string[] = [];
    k.on('pageerror', (err) => errors.push(err.message));
    const isDark = () => k.evaluate(() => document.documentElement.classList.contains('dark'));
    // The page's background, as a lightness: dark well under the middle, light well over it.
    const lightness = () =>
      k.evaluate(() => {
        const probe = document.createElement('canvas').getContext('2d')!;
        probe.fillStyle = getComputedStyle(document.body).backgroundColor;
        probe.fillRect(0, 0, 1, 1);
        const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
        return (r! + g! + b!) / 3 / 255;
      });
    try {
      await signUp(k, node.url, `dkim_${suffix}`, 'Kim');
      expect(await isDark()).toBe(true);
      expect(await lightness()).toBeLessThan(0.3);
      await k.getByRole('button', { name: 'Theme: as the system' }).click();
      await k.getByRole('button', { name: 'Theme: dark' }).click();
      await k.getByRole('button', { name: 'Theme: light' }).waitFor();
      expect(await isDark()).toBe(false);
      expect(await lightness()).toBeGreaterThan(0.8);
      await k.reload();
      await k.getByRole('button', { name: 'Theme: light' }).waitFor();
      expect(await isDark()).toBe(false);
      await k.getByRole('button', { name: 'Theme: light' }).click();
      await k.getByRole('button', { name: 'Theme: as the system' }).waitFor();
      expect(await isDark()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  test('an offline member shows when they were last seen, live and after a reload', async () => {
    const lia = await newUserPage(browser);
    const l = lia.page;
    const max = await sdkUser(node.url, 'lmax', 'Max');
    try {
      await signUp(l, node.url, `llia_${suffix}`, 'Lia');
      await createRoom(l, `Seen ${suffix}`);
      await max.api.joinRoom(await openRoomId(l));
      const maxSocket = new ChatSocket({ url: node.url, auth: max.session });
      await waitUntil(async () => maxSocket.connectionState === 'connected', { description: 'Max connected' });
      await l.getByRole('button', { name: /^Members/ }).click();
      const maxRow = l.getByRole('complementary', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Max' });
      await maxRow.getByRole('img', { name: 'online' }).waitFor();
      maxSocket.close();
      await maxRow.getByRole('img', { name: 'offline' }).waitFor({ timeout: 30_000 });
      await maxRow.getByText('last seen just now', { exact: false }).waitFor();
      // After a reload the page asks the server (presence:get) for members it has no time for.
      await l.reload();
      await l.getByRole('button', { name: /^Members/ }).click();
      await maxRow.getByText('last seen just now', { exact: false }).waitFor();
      expect(lia.errors).toEqual([]);
    } finally {
      await lia.context.close();
    }
  }, 120_000);

  test('a new display name shows in the sidebar, in other members’ lists at once and on new messages', async () => {
    const nia = await newUserPage(browser);
    const n = nia.page;
    const omar = await sdkUser(node.url, 'romar', 'Omar');
    const omarSocket = new ChatSocket({ url: node.url, auth: omar.session });
    try {
      await signUp(n, node.url, `rnia_${suffix}`, 'Nia');
      await createRoom(n, `Names ${suffix}`);
      const roomId = await openRoomId(n);
      await omar.api.joinRoom(roomId);
      await waitUntil(async () => omarSocket.connectionState === 'connected', { description: 'Omar connected' });
      const announced = new Promise<string>((resolve) => omarSocket.on('memberUpdated', (e) => resolve(e.member.displayName)));
      const heard: string[] = [];
      omarSocket.on('message', (m) => heard.push(m.senderName));

      await n.getByRole('button', { name: 'Account' }).click();
      await n.getByLabel('Display name').fill('Nia Okafor');
      await n.getByRole('button', { name: 'Save name' }).click();
      await n.getByText('Saved: everyone now sees Nia Okafor.').waitFor();
      await n.getByText('Signed in as Nia Okafor').waitFor();
      expect(await announced).toBe('Nia Okafor');
      await n.getByRole('button', { name: 'Account' }).click();
      await send(n, 'my new name');
      await waitUntil(async () => heard.length === 1, { description: 'Omar receiving the message' });
      expect(heard).toEqual(['Nia Okafor']);

      // Bad input: said at once, nothing sent.
      await n.getByRole('button', { name: 'Account' }).click();
      await n.getByLabel('Display name').fill('   ');
      await n.getByText('Your name cannot be blank.').waitFor();
      expect(await n.getByRole('button', { name: 'Save name' }).isDisabled()).toBe(true);
      expect(nia.errors).toEqual([]);
    } finally {
      omarSocket.close();
      await nia.context.close();
    }
  }, 120_000);
});
