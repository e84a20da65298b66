/**
 * Drives the built app in Chromium through the main screens and saves each at desktop and phone width to
 * docs/screenshots/ (`<screen>-desktop.png`, `<screen>-phone.png`).
 *
 *   pnpm --filter @chat/web build && pnpm --filter @chat/web screenshots
 *
 * Without BASE_URL it starts its own node (embedded mode, a temporary data directory) serving
 * apps/web/dist, and stops it by PID at the end. With BASE_URL it uses that server instead.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpApi, Session } from '@chat/client';
import { spawnNode } from '@chat/testkit';
import type { BrowserContext, Page } from 'playwright-core';
import { composer, PASSWORD, signUp } from '../test/support/app-driver';
import { DESKTOP, launchBrowser, PHONE, socketSwitch } from '../test/support/browser';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const OUT = path.join(REPO, 'docs/screenshots');
const suffix = Date.now().toString(36).slice(-4);

function step(msg: string): void {
  console.log(`• ${msg}`);
}

/** One screenshot per width; the page is resized in place so both show the same state. */
async function shoot(page: Page, name: string, opts: { phoneFirst?: boolean } = {}): Promise<void> {
  // No hover toolbar from the last click in the picture.
  await page.mouse.move(0, DESKTOP.height - 1);
  const sizes = [['desktop', DESKTOP], ['phone', PHONE]] as const;
  for (const [label, size] of opts.phoneFirst ? [...sizes].reverse() : sizes) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
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

async function openRoom(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: new RegExp(name) }).click();
  await page.getByRole('heading', { level: 2 }).filter({ hasText: name }).waitFor();
}

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
    await send(a, 'Thanks both! Notes are in the doc.');
    await bubble(a, 'Thanks both!').locator('[data-status="read"]').waitFor();
    await composer(b).pressSequentially('On it', { delay: 40 });
    await a.getByText('Bob Chen is typing…').waitFor();
    await shoot(a, 'room-view');

    step('dark mode (the system setting)');
    await a.emulateMedia({ colorScheme: 'dark' });
    await shoot(a, 'room-view-dark');
    await a.emulateMedia({ colorScheme: 'light' });

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
    const anon = new HttpApi({ baseUrl: base });
    const owner = new Session({ api: anon });
    await owner.login({ username: `alice_${suffix}`, password: PASSWORD });
    const ownerApi = anon.withAuth(owner);
    const { rooms } = await ownerApi.listRooms();
    const review = rooms.find((r) => r.name === room)!;
    const { users } = await ownerApi.searchUsers(`carol_${suffix}`);
    await openRoom(c, room);
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
