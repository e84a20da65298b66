/**
 * Drives the built app in Chromium end to end and saves screenshots to docs/screenshots/.
 * Two users sign up, A creates a public room, B discovers and joins it, they chat both ways.
 *
 *   PORT=3123 DATA_DIR=$(mktemp -d) pnpm --filter @chat/server start   # serves apps/web/dist
 *   BASE_URL=http://127.0.0.1:3123 pnpm --filter @chat/web exec tsx scripts/screenshots.ts
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3123';
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const suffix = Date.now().toString(36).slice(-5);

function step(msg: string): void {
  console.log(`• ${msg}`);
}

/** One screenshot per viewport, the page resized in place so both show the same state. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    const file = path.join(OUT, `${name}-${label}.png`);
    await page.screenshot({ path: file });
    console.log(`  saved ${path.relative(process.cwd(), file)}`);
  }
  await page.setViewportSize(DESKTOP);
}

async function signUp(page: Page, username: string, displayName: string): Promise<void> {
  await page.goto(BASE);
  await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
}

/** A message bubble whose text is exactly `text`, once acknowledged (no "sending…" beside it). */
async function seeMessage(page: Page, text: string): Promise<void> {
  await page.locator('p', { hasText: text }).last().waitFor();
  await page.waitForFunction(() => ![...document.querySelectorAll('span')].some((s) => s.textContent === 'sending…'), undefined, { timeout: 30_000 });
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const a = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    const b = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    for (const p of [a, b]) p.on('pageerror', (err) => console.error('page error:', err.message));

    step('sign-in screen, and a clear error for a wrong password');
    await a.goto(BASE);
    await a.getByLabel('Username').fill('nobody_here');
    await a.getByLabel('Password').fill('wrong password');
    await a.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = await a.getByRole('alert').textContent();
    console.log(`  error shown: ${alert}`);
    await shoot(a, 'sign-in-error');
    await a.goto(BASE);
    await a.getByLabel('Username').fill('alice');
    await shoot(a, 'sign-in');

    step('two users sign up');
    await signUp(a, `alice_${suffix}`, 'Alice');
    await signUp(b, `bob_${suffix}`, 'Bob');

    step('A creates a public room');
    const roomName = `General ${suffix}`;
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Room name').fill(roomName);
    await a.getByRole('button', { name: 'Create' }).click();
    await a.getByRole('heading', { name: `# ${roomName}` }).waitFor();
    await send(a, 'Hello from Alice! Anyone here?');
    await seeMessage(a, 'Hello from Alice! Anyone here?');

    step('B discovers and joins it, and sees the history');
    await b.getByRole('button', { name: 'Browse rooms' }).click();
    await b.getByLabel('Search public rooms').fill(suffix);
    await b.getByRole('listitem').filter({ hasText: roomName }).getByRole('button', { name: 'Join' }).click();
    await b.getByRole('heading', { name: `# ${roomName}` }).waitFor();
    await seeMessage(b, 'Hello from Alice! Anyone here?');

    step('typing indicator, then messages both ways');
    await b.getByLabel('Message').pressSequentially('Hi Alice', { delay: 30 });
    await a.getByText('Bob is typing…').waitFor();
    console.log('  A sees "Bob is typing…"');
    await b.getByLabel('Message').press('Enter');
    await seeMessage(a, 'Hi Alice');
    await a.getByText('Bob is typing…').waitFor({ state: 'detached' });
    const box = a.getByLabel('Message');
    await box.fill('Two lines:');
    await box.press('Shift+Enter');
    await box.pressSequentially('<b>this is text, not HTML</b>');
    await box.press('Enter');
    await seeMessage(b, '<b>this is text, not HTML</b>');
    if ((await b.locator('p b').count()) > 0) throw new Error('message content was rendered as HTML');
    await send(b, 'Great to be here — ünïcödé too.');
    await seeMessage(a, 'Great to be here — ünïcödé too.');

    step('B goes back to the list; a new message raises its unread badge');
    // The phone layout's back button; on desktop the list is always beside the room.
    await b.setViewportSize(PHONE);
    await b.getByRole('button', { name: 'Back to rooms' }).click();
    await b.setViewportSize(DESKTOP);
    await send(a, 'See you at the standup.');
    await seeMessage(a, 'See you at the standup.');
    await b.getByLabel('1 unread').waitFor();
    await b.getByText('Alice: See you at the standup.').waitFor();
    console.log('  B sees the unread badge and the last message');
    await shoot(b, 'room-list');

    step('room view');
    await shoot(a, 'room-view');

    step('a message the server refuses shows "failed" with retry');
    await send(a, 'x'.repeat(4001));
    await a.getByText(/failed/).waitFor();
    await a.getByRole('button', { name: 'Retry' }).waitFor();
    await a.getByRole('button', { name: 'Discard' }).click();

    step('history pages: 60 messages, then B reloads and loads older ones');
    for (let i = 1; i <= 60; i++) await send(a, `burst ${i}`);
    await seeMessage(a, 'burst 60');
    await b.reload();
    await b.getByRole('button', { name: roomName }).click();
    await seeMessage(b, 'burst 60');
    if ((await b.getByText('Hello from Alice! Anyone here?').count()) !== 0) throw new Error('expected only the newest page');
    await b.getByRole('button', { name: 'Load older messages' }).click();
    await b.getByText('Hello from Alice! Anyone here?').waitFor();
    console.log('  older page loaded');

    console.log('all steps passed');
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
