/**
 * Measures how the room view scrolls with 10,000 loaded messages: frame intervals while scrolling the whole
 * history with the mouse wheel, and the number of message rows in the DOM. Numbers, not a test: they depend
 * on the machine (see docs/web-client.md for a run).
 *
 *   pnpm --filter @chat/web build && pnpm --filter @chat/web exec tsx scripts/scroll-smoothness.ts
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatSocket, HttpApi, Session } from '@chat/client';
import { spawnNode } from '@chat/testkit';
import { PASSWORD } from '../test/support/app-driver';
import { launchBrowser } from '../test/support/browser';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TOTAL = Number(process.env.MESSAGES ?? 10_000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const node = await spawnNode({ env: { MESSAGES_PER_SECOND: '100000', WEB_DIST_DIR: path.join(REPO, 'apps/web/dist') }, timeoutMs: 120_000 });
  const base = node.url;
  const browser = await launchBrowser();
  try {
    const anon = new HttpApi({ baseUrl: base });
    const writer = new Session({ api: anon });
    await writer.register({ username: 'writer', password: PASSWORD });
    const { room } = await anon.withAuth(writer).createRoom({ name: 'Archive', type: 'public' });
    const socket = new ChatSocket({ url: base, auth: writer, deliveredDebounceMs: 0 });
    const seeded = Date.now();
    for (let start = 1; start <= TOTAL; start += 200) {
      await Promise.all(Array.from({ length: Math.min(200, TOTAL - start + 1) }, (_, i) => socket.send(room.id, `message ${start + i}: ${'lorem ipsum '.repeat((start + i) % 7)}`).ack));
    }
    socket.close();
    console.log(`seeded ${TOTAL} messages in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(base);
    await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
    await page.getByLabel('Username').fill('reader');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await page.getByRole('button', { name: 'Browse rooms' }).click();
    await page.getByLabel('Search public rooms').fill('Archive');
    await page.getByRole('listitem').filter({ hasText: 'Archive' }).getByRole('button', { name: 'Join' }).click();
    const log = page.getByRole('log', { name: 'Messages' });
    await log.locator('p[data-message-id]').last().waitFor();

    const loading = Date.now();
    for (let i = 0; i < 200 && (await log.getByText('This is the beginning of the conversation.').count()) === 0; i++) {
      await log.evaluate((el) => el.scrollTo({ top: 0 }));
      await page.waitForFunction(() => !document.querySelector('[role="log"] button[disabled]'), undefined, { timeout: 30_000 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    }
    console.log(`loaded every page by scrolling up in ${((Date.now() - loading) / 1000).toFixed(1)} s`);

    // Wheel from the top to the bottom of the fully loaded history, recording every frame's interval.
    await log.hover();
    // A string, not a function: tsx would wrap a function's inner closures with a helper the page lacks.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (t) => { window.__frames.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const rows: number[] = [];
    for (let i = 0; i < 400; i++) {
      await page.mouse.wheel(0, 1500);
      if (i % 20 === 0) rows.push(await log.locator('p[data-message-id]').count());
      const atEnd = await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
      if (atEnd) break;
    }
    const frames = (await page.evaluate('window.__stop = true, window.__frames.slice(1)')) as number[];
    const sorted = [...frames].sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          messagesLoaded: TOTAL,
          frames: frames.length,
          frameMs: { p50: +percentile(sorted, 50).toFixed(1), p95: +percentile(sorted, 95).toFixed(1), p99: +percentile(sorted, 99).toFixed(1), max: +sorted.at(-1)!.toFixed(1) },
          framesOver50ms: frames.filter((f) => f > 50).length,
          messageRowsInDom: { min: Math.min(...rows), max: Math.max(...rows) },
        },
        null,
        2,
      ),
    );
  } finally {
    await browser.close();
    await node.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
