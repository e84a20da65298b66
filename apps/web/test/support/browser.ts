import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A page in a context of its own (its own localStorage: one user per context), with page errors collected,
 * and anything the Content-Security-Policy blocked (the browser reports it on the console), so every
 * browser test also proves the app runs under the policy the node and NGINX send.
 */
export async function newUserPage(browser: Browser, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  return { context, page, errors };
}

/**
 * The page's Socket.IO connections, made cuttable while its HTTP keeps working (a dead network for the
 * socket only): `cut()` closes the open ones from the server side and refuses new ones at once, `restore()`
 * lets the next attempt through. Playwright's `routeWebSocket` connects each page socket to the real server.
 */
export async function socketSwitch(context: BrowserContext): Promise<{ cut: () => Promise<void>; restore: () => void }> {
  let blocked = false;
  const open: { close: () => Promise<void> }[] = [];
  await context.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    if (blocked) void server.close({ code: 4000, reason: 'blocked by the test' });
    else open.push({ close: () => server.close({ code: 4000, reason: 'cut by the test' }) });
  });
  return {
    cut: async () => {
      blocked = true;
      for (const ws of open.splice(0)) await ws.close();
    },
    restore: () => {
      blocked = false;
    },
  };
}
