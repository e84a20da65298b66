import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HttpApi, Session } from '@chat/client';
import { ChatError } from '@chat/protocol';
import type { Browser, Page } from 'playwright-core';
import { spawnNode, waitUntil, type StandaloneNode } from '@chat/testkit';
import { PASSWORD, bubble, composer, createRoom, joinRoom, signUp } from './support/app-driver';
import { launchBrowser, newUserPage } from './support/browser';
import { startThrottlingProxy } from './support/throttling-proxy';
import { ensureWebBuild } from './support/web-build';

/**
 * Files in the web app (issue 10, part 5) in Chromium against a real node on its disk store: an image is
 * attached, uploaded with progress, sent, previewed by both members and opened full size; a non-member
 * gets no link and an altered link no bytes; files the server would refuse are refused before uploading;
 * an upload cut off by the network is retried; a slow upload is cancelled half-way and leaves nothing on disk; a
 * profile picture set in the Account panel shows beside the name on another member's screen at once.
 */

const suffix = Math.random().toString(36).slice(2, 7);
/** A 2×2 PNG: red, green, blue, white. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

function filesOnDisk(node: StandaloneNode): string[] {
  const root = join(node.dataDir, 'files');
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** Waits for the image to have been decoded (a broken link never gets a natural width). */
async function imageShown(page: Page, text: string, name: string): Promise<string> {
  const img = bubble(page, text).getByRole('img', { name });
  await img.waitFor();
  await waitUntil(async () => (await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)) === 2, { description: `${name} decoded` });
  return (await img.getAttribute('src'))!;
}

describe('web app: files', () => {
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

  test('an image is attached, sent, previewed by the other member and opened full size; a non-member cannot read it', async () => {
    const alice = await newUserPage(browser);
    const bob = await newUserPage(browser);
    const a = alice.page;
    const b = bob.page;
    await signUp(a, node.url, `falice_${suffix}`, 'Alice');
    await signUp(b, node.url, `fbob_${suffix}`, 'Bob');
    const room = `Files ${suffix}`;
    await createRoom(a, room);
    await joinRoom(b, room);

    // Attach with the button (the file chooser), see it go up, send it with a caption.
    await a.getByLabel('Choose files').setInputFiles({ name: 'colours.png', mimeType: 'image/png', buffer: PNG });
    await a.getByLabel('colours.png uploaded').waitFor();
    await composer(a).fill('look at these colours');
    await composer(a).press('Enter');
    const src = await imageShown(a, 'look at these colours', 'colours.png');
    await imageShown(b, 'look at these colours', 'colours.png');

    // Full size for Bob, closed with Escape.
    await bubble(b, 'look at these colours').getByRole('button', { name: 'Open colours.png full size' }).click();
    const dialog = b.getByRole('dialog', { name: 'colours.png' });
    await dialog.getByRole('img', { name: 'colours.png' }).waitFor();
    await b.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // The link works without a token, for its lifetime; altered, it does not; a non-member gets none.
    const bytes = await fetch(src);
    expect([bytes.status, bytes.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await bytes.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await fetch(src.replace(/signature=./, (s) => (s.endsWith('A') ? 'signature=B' : 'signature=A')))).status).toBe(403);
    const fileId = new URL(src).pathname.split('/')[3]!;
    const anon = new HttpApi({ baseUrl: node.url });
    const carol = new Session({ api: anon });
    await carol.register({ username: `fcarol_${suffix}`, password: PASSWORD });
    const refused = await anon.withAuth(carol).fileLink(fileId).catch((err: unknown) => err);
    expect(refused instanceof ChatError && refused.code).toBe('FORBIDDEN');
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('files the server would refuse are refused before upload; a cut-off upload is retried', async () => {
    const { context, page, errors } = await newUserPage(browser);
    await signUp(page, node.url, `fdave_${suffix}`, 'Dave');
    await createRoom(page, `Uploads ${suffix}`);
    const onDisk = filesOnDisk(node);

    await page.getByLabel('Choose files').setInputFiles([
      { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) },
      { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<script>alert(1)</script>') },
    ]);
    const chips = page.getByRole('list', { name: 'Files to send' });
    await chips.getByRole('alert').filter({ hasText: 'Too large' }).waitFor();
    await chips.getByRole('alert').filter({ hasText: 'cannot be sent' }).waitFor();
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await chips.getByRole('button', { name: 'Remove huge.png' }).click();
    await chips.getByRole('button', { name: 'Remove page.html' }).click();
    await chips.waitFor({ state: 'detached' });

    // The network drops the first attempt: the chip says so and offers a retry, which goes through.
    let cut = true;
    await page.route('**/api/rooms/*/files?*', (route) => (cut ? route.abort('connectionreset') : route.continue()));
    await page.getByLabel('Choose files').setInputFiles({ name: 'again.png', mimeType: 'image/png', buffer: PNG });
    await chips.getByRole('alert').waitFor();
    cut = false;
    await chips.getByRole('button', { name: 'Retry' }).click();
    await page.getByLabel('again.png uploaded').waitFor();
    await page.unroute('**/api/rooms/*/files?*');
    await page.getByRole('button', { name: 'Send' }).click();
    // Nothing typed: the message carries the file's name.
    await imageShown(page, 'again.png', 'again.png');
    await waitUntil(async () => filesOnDisk(node).length === onDisk.length + 1, { description: 'the retried upload on disk' });
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a slow upload shows its progress, is cancelled half-way, and leaves nothing on the node', async () => {
    // Through a proxy that holds back what the browser sends (support/throttling-proxy.ts): the node gets the
    // upload at 64 KB/s, as from a slow link.
    const proxy = await startThrottlingProxy(node.url);
    const { context, page, errors } = await newUserPage(browser);
    await signUp(page, proxy.url, `fslow_${suffix}`, 'Sam');
    await createRoom(page, `Slow ${suffix}`);
    const onDisk = filesOnDisk(node);

    proxy.limitUploads(64 * 1024);
    await page.getByLabel('Choose files').setInputFiles({ name: 'slow.png', mimeType: 'image/png', buffer: Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]) });
    const progress = page.getByRole('progressbar', { name: 'Uploading slow.png' });
    await waitUntil(async () => Number(await progress.getAttribute('value')) > 0, { description: 'upload progress shown' });
    // Half-way on the node: its bytes are being written to the store as they arrive.
    await waitUntil(async () => filesOnDisk(node).length > onDisk.length, { description: 'the upload under way on the node' });
    const chips = page.getByRole('list', { name: 'Files to send' });
    await chips.getByRole('button', { name: 'Cancel slow.png' }).click();
    await chips.waitFor({ state: 'detached' });
    // The node forgets the cut upload: nothing of it stays on disk (its temporary file included).
    await waitUntil(async () => JSON.stringify(filesOnDisk(node)) === JSON.stringify(onDisk), { description: 'nothing left of the cancelled upload' });
    proxy.limitUploads(undefined);
    expect(errors).toEqual([]);
    await context.close();
    await proxy.close();
  });

  test('a picture chosen in the Account panel shows at once beside the name on the other member\'s screen, and can be removed', async () => {
    const alice = await newUserPage(browser);
    const bob = await newUserPage(browser);
    const a = alice.page;
    const b = bob.page;
    await signUp(a, node.url, `palice_${suffix}`, 'Pia');
    await signUp(b, node.url, `pbob_${suffix}`, 'Per');
    const room = `Faces ${suffix}`;
    await createRoom(a, room);
    await joinRoom(b, room);
    await composer(a).fill('say cheese');
    await composer(a).press('Enter');
    // The picture sits beside the bubble, in the message's row.
    const onMessage = bubble(b, 'say cheese').locator('xpath=..').locator('img[data-avatar]');
    expect(await onMessage.count()).toBe(0);

    await a.getByRole('button', { name: 'Account' }).click();
    await a.getByLabel('Choose a picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
    await a.getByRole('group', { name: 'Picture' }).locator('img[data-avatar]').waitFor();

    // Bob's screen: on Alice's message and in the member list, without a reload.
    await onMessage.waitFor();
    await waitUntil(async () => (await onMessage.evaluate((el) => (el as HTMLImageElement).naturalWidth)) === 2, { description: 'the picture decoded' });
    await b.getByRole('button', { name: /^Members/ }).click();
    const row = b.getByRole('complementary', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Pia' });
    await row.locator('img[data-avatar]').waitFor();

    await a.getByRole('button', { name: 'Remove picture' }).click();
    await row.locator('img[data-avatar]').waitFor({ state: 'detached' });
    await onMessage.waitFor({ state: 'detached' });
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });
});
