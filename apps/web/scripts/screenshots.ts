/**
 * Drives the built app in Chromium through the main screens and saves each at desktop and phone width to
 * docs/screenshots/ (`<screen>-desktop.png`, `<screen>-phone.png`).
 *
 *   pnpm --filter @chat/web build && pnpm --filter @chat/web screenshots
 *
 * Without BASE_URL it starts its own node (embedded mode, a temporary data directory) serving
 * apps/web/dist, and stops it by PID at the end. With BASE_URL it uses that server instead.
 *
 * The demo room has a topic, Bob and Carol have profile pictures (set through the SDK before the
 * conversation) and Carol shares an image through the composer's 📎; the pictures are drawn by Chromium
 * from the HTML below, so the script needs no image files.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpApi, Session } from '@chat/client';
import { spawnNode } from '@chat/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { composer, PASSWORD, signUp } from '../test/support/app-driver';
import { DESKTOP, launchBrowser, PHONE, socketSwitch } from '../test/support/browser';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const OUT = path.join(REPO, 'docs/screenshots');
const suffix = Date.now().toString(36).slice(-4);

function step(msg: string): void {
  console.log(`• ${msg}`);
}

/**
 * Every picture in view has been decoded and no placeholder is still pulsing (an image preview whose link
 * is on its way), so no screenshot shows a half-loaded image. Pictures out of view (lazy) are not waited for.
 */
async function picturesLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      // No named function in here: tsx would wrap it in a helper (`__name`) that the page does not have.
      for (const el of [...document.images, ...document.querySelectorAll('.animate-pulse')]) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || r.bottom <= 0 || r.right <= 0 || r.top >= window.innerHeight || r.left >= window.innerWidth) continue;
        if (!(el instanceof HTMLImageElement) || !el.complete || el.naturalWidth === 0) return false;
      }
      return true;
    },
    undefined,
    { timeout: 15_000 },
  );
}

/** One screenshot per width; the page is resized in place so both show the same state. */
async function shoot(page: Page, name: string, opts: { phoneFirst?: boolean } = {}): Promise<void> {
  // No hover toolbar from the last click in the picture.
  await page.mouse.move(0, DESKTOP.height - 1);
  const sizes = [['desktop', DESKTOP], ['phone', PHONE]] as const;
  for (const [label, size] of opts.phoneFirst ? [...sizes].reverse() : sizes) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await picturesLoaded(page);
    const file = path.join(OUT, `${name}-${label}.png`);
    await page.screenshot({ path: file });
    console.log(`  saved ${path.relative(REPO, file)}`);
  }
  await page.setViewportSize(DESKTOP);
}

const bubble = (page: Page, text: string) =>
  page.getByRole('log', { name: 'Messages' }).locator('article').filter({ has: page.locator('p[data-message-id]', { hasText: text }) });

async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await bubble(page, text).locator('[data-status]:not([data-status="sending"])').first().waitFor();
}

/**
 * Scrolls the message log to its end, as the user would. Needed where the app leaves it a little above the
 * newest message: the Edit room panel opening above the log shrinks it without following the bottom, and an
 * image preview that finishes loading right after a reload can leave the log one image height short.
 */
async function scrollToNewest(page: Page): Promise<void> {
  await page.getByRole('log', { name: 'Messages' }).evaluate((el) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function openRoom(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: new RegExp(name) }).click();
  await page.getByRole('heading', { level: 2 }).filter({ hasText: name }).waitFor();
}

/** A PNG of `html` (one element, id `art`) as Chromium draws it: the demo's profile pictures and shared image. */
async function drawPng(browser: Browser, html: string): Promise<Buffer> {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  try {
    const page = await context.newPage();
    await page.setContent(`<body style="margin:0">${html}</body>`);
    return await page.locator('#art').screenshot({ type: 'png' });
  } finally {
    await context.close();
  }
}

/** A 256×256 profile picture: a head and shoulders in light on a soft diagonal gradient. */
const portrait = (from: string, to: string, figure: string) => `
  <div id="art" style="position:relative;width:256px;height:256px;overflow:hidden;background:linear-gradient(135deg,${from},${to})">
    <div style="position:absolute;left:83px;top:50px;width:90px;height:90px;border-radius:50%;background:${figure}"></div>
    <div style="position:absolute;left:38px;top:158px;width:180px;height:160px;border-radius:50%;background:${figure}"></div>
  </div>`;

/** The image shared in the conversation: a sketch of onboarding step 3 split in two screens. */
const SCREENS = [
  { step: '3a', title: 'Your profile', colour: '#6366f1', rows: ['Display name', 'Picture'] },
  { step: '3b', title: 'Your rooms', colour: '#ec4899', rows: ['Browse rooms', 'Invite a friend'] },
];
const MOCKUP = `
  <div id="art" style="width:480px;height:300px;display:flex;gap:36px;align-items:center;justify-content:center;font-family:'DejaVu Sans',sans-serif;background:linear-gradient(120deg,#e0e7ff,#fce7f3)">
    ${SCREENS.map(
      ({ step, title, colour, rows }) => `
      <div style="width:160px;height:256px;border-radius:22px;background:#fff;box-shadow:0 10px 24px rgba(30,27,75,.18);padding:18px 14px;box-sizing:border-box">
        <div style="font-size:13px;font-weight:700;letter-spacing:.5px;color:${colour}">STEP ${step}</div>
        <div style="margin-top:2px;font-size:19px;font-weight:700;color:#1e1b4b;white-space:nowrap">${title}</div>
        <div style="margin:14px auto 0;width:58px;height:58px;border-radius:50%;background:${colour};opacity:.85"></div>
        ${rows.map((r) => `<div style="margin-top:10px;height:24px;border-radius:7px;background:#f1f5f9;color:#64748b;font-size:11px;line-height:24px;padding-left:8px">${r}</div>`).join('')}
        <div style="margin-top:14px;height:30px;border-radius:15px;background:${colour};color:#fff;font-size:14px;font-weight:700;line-height:30px;text-align:center">Next</div>
      </div>`,
    ).join('')}
  </div>`;

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // A node as `pnpm start` runs it, on a temporary data directory.
  const node = process.env.BASE_URL ? undefined : await spawnNode({ env: { WEB_DIST_DIR: path.join(REPO, 'apps/web/dist') }, timeoutMs: 120_000 });
  const base = process.env.BASE_URL ?? node!.url;
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    return { context, page };
  };
  try {
    const { page: a, context: aContext } = await newPage();
    const { page: b } = await newPage();
    const { page: c, context: cContext } = await newPage();

    step('sign in, with a clear error; sign up');
    await a.goto(base);
    await a.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await shoot(a, 'sign-in');
    await a.getByLabel('Username').fill('nobody_here');
    await a.getByLabel('Password').fill('wrong password');
    await a.getByRole('button', { name: 'Sign in', exact: true }).click();
    await a.getByRole('alert').waitFor();
    await shoot(a, 'sign-in-error');
    await a.getByRole('button', { name: 'No account yet? Sign up' }).click();
    await shoot(a, 'sign-up');

    step('three people; Alice creates a room, the others join');
    await signUp(a, base, `alice_${suffix}`, 'Alice Martin');
    await signUp(b, base, `bob_${suffix}`, 'Bob Chen');
    await signUp(c, base, `carol_${suffix}`, 'Carol Diaz');
    const room = `Design review ${suffix}`;
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Room name').fill(room);
    await a.getByRole('button', { name: 'Create' }).click();
    await a.getByRole('heading', { level: 2 }).filter({ hasText: room }).waitFor();

    step('profile pictures for Bob and Carol, a topic for the room (through the SDK)');
    const anon = new HttpApi({ baseUrl: base });
    const signedIn = async (username: string) => {
      const session = new Session({ api: anon });
      await session.login({ username, password: PASSWORD });
      return anon.withAuth(session);
    };
    const ownerApi = await signedIn(`alice_${suffix}`);
    const pictures = [
      [`bob_${suffix}`, portrait('#fbbf24', '#f97316', 'rgba(255,255,255,.88)')],
      [`carol_${suffix}`, portrait('#34d399', '#0ea5e9', 'rgba(255,255,255,.88)')],
    ] as const;
    for (const [username, html] of pictures) {
      await (await signedIn(username)).setAvatar({ type: 'image/png', data: await drawPng(browser, html) });
    }
    const { rooms } = await ownerApi.listRooms();
    const review = rooms.find((r) => r.name === room)!;
    await ownerApi.updateRoom(review.id, { topic: 'Onboarding flow v2: feedback by Friday, notes in the shared doc' });
    await a.getByLabel('Topic').filter({ hasText: 'Onboarding flow v2' }).waitFor();
    const mockup = await drawPng(browser, MOCKUP);
    for (const p of [b, c]) {
      await p.getByRole('button', { name: 'Browse rooms' }).click();
      await p.getByLabel('Search public rooms').fill(suffix);
      if (p === c) {
        await p.getByRole('listitem').filter({ hasText: room }).waitFor();
        await shoot(p, 'browse-rooms');
      }
      await p.getByRole('listitem').filter({ hasText: room }).getByRole('button', { name: 'Join' }).click();
      await p.getByRole('heading', { level: 2 }).filter({ hasText: room }).waitFor();
    }

    step('a conversation: replies, an edit, a reaction, a link, a deleted message, receipts, typing');
    await send(a, 'Morning! The new onboarding flow is up for review.');
    await send(b, 'Looks great. One question about step 3: https://example.org/specs/onboarding#step-3');
    await bubble(a, 'One question about step 3').hover();
    await bubble(a, 'One question about step 3').getByRole('button', { name: 'Reply' }).click();
    await send(a, 'Good catch, I will split it in two.');
    await send(c, 'I can pair on that this afternon');
    await composer(c).press('ArrowUp');
    await c.getByRole('textbox', { name: 'Edit message' }).fill('I can pair on that this afternoon');
    await c.getByRole('textbox', { name: 'Edit message' }).press('Enter');
    await bubble(a, 'this afternoon').getByText('(edited)').waitFor();
    await bubble(b, 'Good catch').hover();
    await bubble(b, 'Good catch').getByRole('button', { name: 'React' }).click();
    await b.getByRole('button', { name: 'React with 👍' }).click();
    await send(b, 'oops, wrong room');
    await bubble(b, 'oops, wrong room').hover();
    await bubble(b, 'oops, wrong room').getByRole('button', { name: 'Delete' }).click();
    await b.getByRole('button', { name: 'Delete?' }).click();

    step('an image attached with the composer\'s 📎, uploaded, then sent with a caption');
    await c.getByLabel('Choose files').setInputFiles({ name: 'onboarding-step-3.png', mimeType: 'image/png', buffer: mockup });
    await c.getByLabel('onboarding-step-3.png uploaded').waitFor();
    await composer(c).fill('Sketch of step 3 split in two');
    await shoot(c, 'files');
    await composer(c).press('Enter');
    await bubble(c, 'Sketch of step 3').locator('[data-status]:not([data-status="sending"])').first().waitFor();
    await bubble(a, 'Sketch of step 3').getByRole('img', { name: 'onboarding-step-3.png' }).waitFor();
    await send(a, 'Thanks both! Notes are in the doc.');
    await bubble(a, 'Thanks both!').locator('[data-status="read"]').waitFor();
    await composer(b).pressSequentially('On it', { delay: 40 });
    await a.getByText('Bob Chen is typing…').waitFor();
    await shoot(a, 'room-view');

    step('dark mode (the system setting)');
    await a.emulateMedia({ colorScheme: 'dark' });
    await shoot(a, 'room-view-dark');
    await a.emulateMedia({ colorScheme: 'light' });

    step('the room\'s name and topic, as its owner edits them');
    await a.getByRole('button', { name: 'Edit room' }).click();
    await a.getByRole('form', { name: 'Room settings' }).getByLabel('Topic').waitFor();
    await scrollToNewest(a);
    await shoot(a, 'room-settings');
    await a.getByRole('form', { name: 'Room settings' }).getByRole('button', { name: 'Cancel' }).click();
    await a.getByRole('form', { name: 'Room settings' }).waitFor({ state: 'detached' });

    step('formatting and an @mention being completed');
    await composer(c).fill('');
    await composer(c).fill('**Heads up:** the `step-3` copy needs a review\n> split it in two');
    await composer(c).press('Enter');
    await bubble(c, 'Heads up:').locator('[data-status]:not([data-status="sending"])').first().waitFor();
    await composer(b).fill('');
    await composer(b).pressSequentially('@ali');
    await b.getByRole('listbox', { name: 'Mention someone' }).waitFor();
    await shoot(b, 'mention');
    await composer(b).press('Enter');
    await composer(b).pressSequentially('can you *confirm*?');
    await composer(b).press('Enter');

    step('search, and a result opened in context');
    await a.getByRole('button', { name: 'Search', exact: true }).click();
    await a.getByLabel('Search messages').fill('onboarding');
    await a.getByRole('list', { name: 'Search results' }).getByRole('listitem').first().waitFor();
    await shoot(a, 'search');
    await a.getByRole('list', { name: 'Search results' }).getByRole('button').first().click();
    await a.locator('[data-focused="true"]').waitFor();
    await shoot(a, 'search-context');
    await a.getByRole('button', { name: 'Jump to the latest messages' }).click();

    step('members with presence');
    await a.getByRole('button', { name: /^Members/ }).click();
    await a.getByRole('complementary', { name: 'Members' }).getByRole('img', { name: 'online' }).first().waitFor();
    await shoot(a, 'members');
    await a.getByRole('button', { name: 'Manage Bob Chen' }).click();
    await a.getByRole('button', { name: 'Time out' }).click();
    await shoot(a, 'moderation');
    await a.getByRole('group', { name: 'Manage Bob Chen' }).getByRole('button', { name: 'Cancel' }).click();
    await a.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: 'Close' }).click();
    await composer(b).fill('');

    step('a direct conversation, and the room list with unread badges and presence');
    await a.evaluate(() => (window.location.hash = ''));
    await b.getByRole('button', { name: 'Message someone' }).click();
    await b.getByLabel('Search people').fill(`alice_${suffix}`);
    await b.getByRole('button', { name: /^Alice Martin/ }).click();
    await b.getByRole('heading', { level: 2 }).filter({ hasText: 'Alice Martin' }).waitFor();
    await send(b, 'Got a minute after lunch?');
    await send(c, 'Pushed the split version, have a look when you can.');
    await a.getByRole('navigation', { name: 'Rooms' }).getByLabel('1 unread').first().waitFor();
    await shoot(a, 'room-list', { phoneFirst: true });
    await openRoom(a, 'Bob Chen');
    await send(a, 'Sure, 2pm?');
    await shoot(a, 'direct');

    step('the connection is lost: the banner counts down, a message waits for the connection');
    const aSockets = await socketSwitch(aContext);
    await aSockets.cut();
    await a.reload();
    await a.getByRole('status').getByText(/Retrying in|Reconnecting in/).waitFor();
    await composer(a).fill('2pm works, see you there');
    await composer(a).press('Enter');
    await bubble(a, '2pm works').getByText('waiting for connection').waitFor();
    await shoot(a, 'reconnecting');
    aSockets.restore();
    await a.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);
    await bubble(a, '2pm works').locator('[data-status="read"], [data-status="delivered"], [data-status="sent"]').first().waitFor({ timeout: 60_000 });

    step('a message the server refuses: written offline, timed out before it arrives; failed, with the reason and Retry');
    const cSockets = await socketSwitch(cContext);
    await c.reload();
    const { users } = await ownerApi.searchUsers(`carol_${suffix}`);
    await openRoom(c, room);
    await picturesLoaded(c);
    await scrollToNewest(c);
    await cSockets.cut();
    await composer(c).fill('Can we also revisit the colours?');
    await composer(c).press('Enter');
    await ownerApi.timeout(review.id, users[0]!.id, 600, 'cooling down');
    cSockets.restore();
    await c.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);
    await bubble(c, 'revisit the colours').locator('[data-status="failed"]').waitFor();
    await shoot(c, 'failed-message');
    await ownerApi.timeout(review.id, users[0]!.id, 1);

    console.log('all steps passed');
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close();
    await node?.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
