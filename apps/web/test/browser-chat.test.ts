import { ChatSocket, HttpApi, Session } from '@chat/client';
import type { Browser } from 'playwright-core';
import { spawnNode, type StandaloneNode } from '@chat/testkit';
import { PASSWORD, bubble, composer, connectionState, createRoom, joinRoom, renderedTexts, roomHeading, send, signUp, statusOf, waitForStatus } from './support/app-driver';
import { PHONE, launchBrowser, newUserPage, socketSwitch } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * The built web app in Chromium against a real node (embedded mode, serving apps/web/dist like `pnpm
 * start`), two users in two browser contexts. Waits are for what the screen shows, bounded by playwright's
 * timeouts; nothing sleeps.
 */

const suffix = Math.random().toString(36).slice(2, 7);

describe('web app in Chromium against one node', () => {
  let node: StandaloneNode;
  let browser: Browser;

  beforeAll(async () => {
    const dist = ensureWebBuild();
    [node, browser] = await Promise.all([spawnNode({ env: { WEB_DIST_DIR: dist, MESSAGES_PER_SECOND: '5000' } }), launchBrowser()]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await node?.dispose();
  });

  test('two users sign up, create and join a room, chat both ways, and see typing, receipts and presence', async () => {
    const alice = await newUserPage(browser);
    const bob = await newUserPage(browser);
    const a = alice.page;
    const b = bob.page;
    try {
      await signUp(a, node.url, `alice_${suffix}`, 'Alice');
      await signUp(b, node.url, `bob_${suffix}`, 'Bob');

      const room = `Team ${suffix}`;
      await createRoom(a, room);
      await send(a, 'Hello from Alice');
      await waitForStatus(a, 'Hello from Alice', 'sent');

      await joinRoom(b, room);
      await bubble(b, 'Hello from Alice').waitFor();

      // Typing, then the message it announced; the indicator goes away with it.
      await composer(b).pressSequentially('Hi Alice', { delay: 40 });
      await a.getByText('Bob is typing…').waitFor();
      await composer(b).press('Enter');
      await bubble(a, 'Hi Alice').waitFor();
      await a.getByText('Bob is typing…').waitFor({ state: 'detached' });

      // Receipts: Bob has the room open, so Alice's next message goes sent → read ("read by everyone" of one).
      await send(a, 'Are you reading this?');
      await bubble(b, 'Are you reading this?').waitFor();
      await waitForStatus(a, 'Are you reading this?', 'read');
      expect(await bubble(a, 'Are you reading this?').getByText('Read by everyone').count()).toBe(1);
      // Bob's own message was read by Alice, who had the room open when it arrived.
      await waitForStatus(b, 'Hi Alice', 'read');
      // After a reload the ticks come from the member list's cursors: Bob has written nothing since he read it,
      // and his client has no reason to send that receipt again.
      await a.reload();
      await roomHeading(a, room).waitFor();
      await waitForStatus(a, 'Are you reading this?', 'read');

      // Content is text, never HTML; links are http(s) only.
      await send(b, '<b>bold?</b> see https://example.org/docs and javascript:alert(1)');
      const msg = bubble(a, '<b>bold?</b> see https://example.org/docs and javascript:alert(1)');
      await msg.waitFor();
      expect(await msg.locator('b').count()).toBe(0);
      expect(await msg.locator('a').evaluateAll((els) => els.map((e) => e.getAttribute('href')))).toEqual(['https://example.org/docs']);

      // Both sides show every message once, in the same order.
      const expected = ['Hello from Alice', 'Hi Alice', 'Are you reading this?', '<b>bold?</b> see https://example.org/docs and javascript:alert(1)'];
      expect(await renderedTexts(a)).toEqual(expected);
      expect(await renderedTexts(b)).toEqual(expected);

      // Presence: Alice sees Bob online in the member list, then offline once his browser is gone.
      await a.getByRole('button', { name: /^Members/ }).click();
      const bobRow = a.getByRole('complementary', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Bob' });
      await bobRow.getByRole('img', { name: 'online' }).waitFor();
      await bob.context.close();
      await bobRow.getByRole('img', { name: 'offline' }).waitFor({ timeout: 30_000 });
      expect(alice.errors).toEqual([]);
      expect(bob.errors).toEqual([]);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  }, 180_000);

  test('a direct conversation through user search, at phone width, with the other person’s presence in the room list', async () => {
    const carol = await newUserPage(browser, PHONE);
    const dan = await newUserPage(browser, PHONE);
    const c = carol.page;
    const d = dan.page;
    try {
      await signUp(c, node.url, `carol_${suffix}`, 'Carol');
      await signUp(d, node.url, `dan_${suffix}`, 'Dan');
      await c.getByRole('button', { name: 'Message someone' }).click();
      await c.getByLabel('Search people').fill(`dan_${suffix}`);
      await c.getByRole('button', { name: /^Dan/ }).click();
      await roomHeading(c, 'Dan').waitFor();
      await send(c, 'Hi Dan, got a minute?');
      await waitForStatus(c, 'Hi Dan, got a minute?', 'sent');

      // Dan's list shows the new room under Carol's name, her presence and one unread message.
      const item = d.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: /Carol/ });
      await item.waitFor();
      await item.getByRole('img', { name: 'online' }).waitFor();
      await item.getByLabel('1 unread').waitFor();
      await item.click();
      await bubble(d, 'Hi Dan, got a minute?').waitFor();
      // Direct room: Carol's message goes to "read" (blue ticks, no count).
      await waitForStatus(c, 'Hi Dan, got a minute?', 'read');
      // At phone width the room replaces the list; the back button returns to it.
      await d.getByRole('button', { name: 'Back to rooms' }).click();
      await d.getByRole('navigation', { name: 'Rooms' }).waitFor();
      expect(carol.errors).toEqual([]);
      expect(dan.errors).toEqual([]);
    } finally {
      await carol.context.close();
      await dan.context.close();
    }
  }, 180_000);

  test('messages written while the socket is down survive a reload, keep their ids and are sent once, in order', async () => {
    const erin = await newUserPage(browser);
    const e = erin.page;
    const anon = new HttpApi({ baseUrl: node.url });
    const frankSession = new Session({ api: anon });
    const frankName = `frank_${suffix}`;
    await frankSession.register({ username: frankName, password: PASSWORD });
    const frankApi = anon.withAuth(frankSession);
    const frank = new ChatSocket({ url: node.url, auth: frankSession });
    const got: string[] = [];
    frank.on('message', (m) => got.push(m.content));
    // The socket is cut (like a dead network) while HTTP still works, so the page itself can reload.
    const sockets = await socketSwitch(erin.context);
    try {
      await signUp(e, node.url, `erin_${suffix}`, 'Erin');
      const room = `Outbox ${suffix}`;
      await createRoom(e, room);
      const { rooms } = await frankApi.discoverRooms(room);
      await frankApi.joinRoom(rooms[0]!.id);
      await send(e, 'before the cut');
      await waitForStatus(e, 'before the cut', 'sent');

      await sockets.cut();
      // A reload under the block gets no socket at all.
      await e.reload();
      await roomHeading(e, room).waitFor();
      await e.getByRole('status').getByText(/Retrying in|Reconnecting in/).waitFor();
      for (const text of ['queued one', 'queued two', 'queued three']) await send(e, text);
      for (const text of ['queued one', 'queued two', 'queued three']) await waitForStatus(e, text, 'sending');
      await e.getByRole('status').getByText('3 messages will be sent when it is back.', { exact: false }).waitFor();
      const idsBefore = await e.locator('p[data-message-id]').evaluateAll((els) => els.map((x) => x.getAttribute('data-message-id')));

      // A reload while they wait: the outbox comes back from localStorage, same ids, same order, still pending.
      await e.reload();
      await roomHeading(e, room).waitFor();
      for (const text of ['queued one', 'queued two', 'queued three']) await waitForStatus(e, text, 'sending');
      // The outbox renders from localStorage at once; the stored message comes with the history page, which
      // can land a moment later on a loaded machine.
      await bubble(e, 'before the cut').first().waitFor();
      expect(await e.locator('p[data-message-id]').evaluateAll((els) => els.map((x) => x.getAttribute('data-message-id')))).toEqual(idsBefore);

      // The network is back; "Retry now" cuts the jittered wait short (unless the scheduled attempt won the race).
      const retryNow = e.getByRole('button', { name: 'Retry now' });
      await retryNow.waitFor();
      sockets.restore();
      await retryNow.click({ timeout: 10_000 }).catch(async (err: unknown) => {
        if ((await connectionState(e)) !== 'connected') throw err;
      });
      for (const text of ['queued one', 'queued two', 'queued three']) await waitForStatus(e, text, 'delivered');
      expect(await connectionState(e)).toBe('connected');
      expect(await e.locator('p[data-message-id]').evaluateAll((els) => els.map((x) => x.getAttribute('data-message-id')))).toEqual(idsBefore);
      expect(await renderedTexts(e)).toEqual(['before the cut', 'queued one', 'queued two', 'queued three']);
      // Frank got each exactly once, in order (sync after his own connect covers what preceded it).
      const history = await frankApi.history(rooms[0]!.id, { after: 0 });
      expect(history.messages.map((m) => m.content)).toEqual(['before the cut', 'queued one', 'queued two', 'queued three']);
      expect(history.messages.map((m) => m.id)).toEqual(idsBefore);
      expect(erin.errors).toEqual([]);
    } finally {
      frank.close();
      await erin.context.close();
    }
  }, 180_000);

  test('rooms joined and left while the socket is down show in the room list once it is back, without a reload', async () => {
    const nell = await newUserPage(browser);
    const h = nell.page;
    const anon = new HttpApi({ baseUrl: node.url });
    const owner = new Session({ api: anon });
    await owner.register({ username: `keeper_${suffix}`, password: PASSWORD });
    const ownerApi = anon.withAuth(owner);
    const sockets = await socketSwitch(nell.context);
    try {
      const { room: kept } = await ownerApi.createRoom({ name: `Kept ${suffix}`, type: 'public' });
      const { room: gone } = await ownerApi.createRoom({ name: `Gone ${suffix}`, type: 'public' });
      const { room: invited } = await ownerApi.createRoom({ name: `Invited ${suffix}`, type: 'private' });
      await signUp(h, node.url, `nell_${suffix}`, 'Nell');
      await joinRoom(h, gone.name);
      await joinRoom(h, kept.name);
      const rooms = h.getByRole('navigation', { name: 'Rooms' });
      await rooms.getByRole('button').filter({ hasText: gone.name }).waitFor();
      const { users } = await ownerApi.searchUsers(`nell_${suffix}`);

      // While her socket is down, Nell is removed from one room and invited into another: the events that say so
      // are sent to sockets she does not have. Her client learns of both from `hello` when it is back.
      await sockets.cut();
      await h.getByRole('status').getByText(/Reconnecting|Retrying/).waitFor();
      await ownerApi.kick(gone.id, users[0]!.id);
      await ownerApi.invite(invited.id, users[0]!.id);
      sockets.restore();
      await h.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);

      await rooms.getByRole('button').filter({ hasText: invited.name }).waitFor();
      await rooms.getByRole('button').filter({ hasText: gone.name }).waitFor({ state: 'detached' });
      expect(await rooms.getByRole('button').filter({ hasText: kept.name }).count()).toBe(1);
      await roomHeading(h, kept.name).waitFor();
      expect(nell.errors).toEqual([]);
    } finally {
      await nell.context.close();
    }
  }, 180_000);

  test('a message the server refuses shows "failed" with its reason, and Retry sends it with the same id', async () => {
    const gina = await newUserPage(browser);
    const g = gina.page;
    const anon = new HttpApi({ baseUrl: node.url });
    const owner = new Session({ api: anon });
    await owner.register({ username: `owner_${suffix}`, password: PASSWORD });
    const ownerApi = anon.withAuth(owner);
    // Gina's socket can be cut: she writes while offline, and is timed out before the message arrives (a
    // client that is connected hears of a timeout at once and does not offer to write).
    const sockets = await socketSwitch(gina.context);
    try {
      const { room } = await ownerApi.createRoom({ name: `Moderated ${suffix}`, type: 'public' });
      await signUp(g, node.url, `gina_${suffix}`, 'Gina');
      await joinRoom(g, room.name);
      const { users } = await ownerApi.searchUsers(`gina_${suffix}`);

      await sockets.cut();
      await g.getByRole('status').getByText(/Reconnecting|Retrying/).waitFor();
      await send(g, 'can I talk?');
      await waitForStatus(g, 'can I talk?', 'sending');
      await ownerApi.timeout(room.id, users[0]!.id, 600, 'cool down');
      sockets.restore();
      await g.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);

      await waitForStatus(g, 'can I talk?', 'failed');
      const row = bubble(g, 'can I talk?');
      const id = await row.locator('p[data-message-id]').getAttribute('data-message-id');
      await row.getByRole('button', { name: 'Retry' }).waitFor();
      await row.getByText('timed out in this room').waitFor();
      // Connected again, the client knows of the timeout: no composer until it ends.
      await g.getByText('A moderator has timed you out in this room', { exact: false }).waitFor();

      // Lift the timeout (a new, 1-second one replaces it; seconds must be positive), then retry until the
      // server takes it. The rule is time-based, so attempts are spaced by a poll interval (bounded: 40 × 250 ms).
      await ownerApi.timeout(room.id, users[0]!.id, 1);
      for (let attempt = 0; attempt < 40; attempt++) {
        if ((await statusOf(g, 'can I talk?')) !== 'failed') break;
        await row.getByRole('button', { name: 'Retry' }).click();
        await row.locator('[data-status="failed"], [data-status="sent"], [data-status="delivered"], [data-status="read"]').first().waitFor();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await row.locator('[data-status="sent"], [data-status="delivered"], [data-status="read"]').first().waitFor();
      expect(await statusOf(g, 'can I talk?')).not.toBe('failed');
      const history = await ownerApi.history(room.id, { after: 0 });
      expect(history.messages.map((m) => [m.id, m.content])).toEqual([[id, 'can I talk?']]);
      // The timeout over, the composer is back without a reload.
      await composer(g).waitFor();
      expect(gina.errors).toEqual([]);
    } finally {
      await gina.context.close();
    }
  }, 180_000);

  test('edit, reply, react and delete, seen on both sides', async () => {
    const hana = await newUserPage(browser);
    const ivan = await newUserPage(browser);
    const h = hana.page;
    const v = ivan.page;
    try {
      await signUp(h, node.url, `hana_${suffix}`, 'Hana');
      await signUp(v, node.url, `ivan_${suffix}`, 'Ivan');
      const room = `Edits ${suffix}`;
      await createRoom(h, room);
      await joinRoom(v, room);
      await send(h, 'teh plan');
      await bubble(v, 'teh plan').waitFor();

      // ArrowUp in the empty composer edits the last own message; Enter saves.
      await composer(h).press('ArrowUp');
      const editBox = h.getByRole('textbox', { name: 'Edit message' });
      await editBox.fill('the plan');
      await editBox.press('Enter');
      await bubble(v, 'the plan').getByText('(edited)').waitFor();

      // Ivan replies (the quote shows what he answers) and Hana reacts to the reply.
      await bubble(v, 'the plan').hover();
      await bubble(v, 'the plan').getByRole('button', { name: 'Reply' }).click();
      await send(v, 'sounds good');
      await bubble(h, 'sounds good').getByText('the plan').waitFor();
      await bubble(h, 'sounds good').hover();
      await bubble(h, 'sounds good').getByRole('button', { name: 'React' }).click();
      await h.getByRole('button', { name: 'React with 👍' }).click();
      await bubble(v, 'sounds good').getByRole('button', { name: '👍 1' }).waitFor();

      // Hana deletes her message: a tombstone on both sides, the reply keeps its place.
      await bubble(h, 'the plan').hover();
      await bubble(h, 'the plan').getByRole('button', { name: 'Delete' }).click();
      await h.getByRole('button', { name: 'Delete?' }).click();
      await v.getByRole('log', { name: 'Messages' }).getByText('Message deleted').first().waitFor();
      expect(await bubble(v, 'the plan').count()).toBe(0);
      expect(await renderedTexts(v)).toEqual(['Message deleted', 'sounds good']);
      expect(hana.errors).toEqual([]);
      expect(ivan.errors).toEqual([]);
    } finally {
      await hana.context.close();
      await ivan.context.close();
    }
  }, 180_000);

  test('a room with 10,000 messages: older pages load on scroll-up, the view stays put, the DOM stays small', async () => {
    const anon = new HttpApi({ baseUrl: node.url });
    const writer = new Session({ api: anon });
    await writer.register({ username: `writer_${suffix}`, password: PASSWORD });
    const { room } = await anon.withAuth(writer).createRoom({ name: `Archive ${suffix}`, type: 'public' });
    const socket = new ChatSocket({ url: node.url, auth: writer, deliveredDebounceMs: 0 });
    const total = 10_000;
    try {
      // One send at a time, so that seq follows the numbers in the content (the checks below rely on it;
      // sends in flight together have no order the protocol promises).
      for (let n = 1; n <= total; n++) await socket.send(room.id, `archived ${n}`).ack;
    } finally {
      socket.close();
    }

    const reader = await newUserPage(browser);
    const r = reader.page;
    try {
      await signUp(r, node.url, `reader_${suffix}`, 'Reader');
      await joinRoom(r, room.name);
      await bubble(r, `archived ${total}`).waitFor();
      const log = r.getByRole('log', { name: 'Messages' });
      const numbers = async () => (await renderedTexts(r)).map((t) => Number(t.replace('archived ', '')));

      // Where a message's row is, relative to the top of the viewport (undefined if it is not rendered).
      const offsetOf = (text: string) =>
        log.evaluate((el, t) => {
          const p = [...el.querySelectorAll('p[data-message-id]')].find((x) => x.textContent === t);
          return p ? p.closest('[data-row]')!.getBoundingClientRect().top - el.getBoundingClientRect().top : undefined;
        }, text);

      // Older pages are held at the network until the test has noted what is on screen, so "before" and
      // "after" are two settled states, not a race with the response.
      let release: () => void = () => {};
      let gate = Promise.resolve();
      await r.route(/\/api\/rooms\/[^/]+\/messages\?.*before=/, async (route) => {
        await gate;
        await route.continue();
      });
      const settled = () => r.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

      // Scroll to the top until the beginning of the room (bounded: 10,000 / 100 per page + slack).
      let pagesLoaded = 0;
      for (; pagesLoaded < 120; pagesLoaded++) {
        if ((await log.getByText('This is the beginning of the conversation.').count()) > 0) break;
        gate = new Promise<void>((resolve) => (release = resolve));
        await log.evaluate((el) => el.scrollTo({ top: 0 }));
        await log.getByRole('button', { name: 'Loading older messages…' }).waitFor();
        await settled();
        // The message at the top of the viewport, and where its row is on screen.
        const top = await log.evaluate((el) => {
          const box = el.getBoundingClientRect();
          const p = [...el.querySelectorAll('p[data-message-id]')].find((x) => x.getBoundingClientRect().top >= box.top)!;
          return { text: p.textContent!, offset: p.closest('[data-row]')!.getBoundingClientRect().top - box.top };
        });
        release();
        // The page above arrives and is rendered above it: older rows appear, and the row that was being read
        // stays where it was on screen (the list anchors on it instead of jumping to the new top).
        await r.waitForFunction(
          ([text]) => {
            const first = document.querySelector('[role="log"] p[data-message-id]');
            return first !== null && Number(first.textContent!.replace('archived ', '')) < Number(text!.replace('archived ', '')) - 10;
          },
          [top.text],
          { timeout: 30_000 },
        );
        await r
          .waitForFunction(
            ([text, offset]) => {
              const el = document.querySelector('[role="log"]')!;
              const p = [...el.querySelectorAll('p[data-message-id]')].find((x) => x.textContent === text);
              // The row keeps its place; its content may get shorter (its sender's name moves to an older row).
              return p !== undefined && Math.abs(p.closest('[data-row]')!.getBoundingClientRect().top - el.getBoundingClientRect().top - Number(offset)) <= 2;
            },
            [top.text, String(top.offset)] as const,
            { timeout: 10_000 },
          )
          .catch(async (err: Error) => {
            throw new Error(`page ${pagesLoaded + 1}: "${top.text}" was ${top.offset}px below the top, now ${await offsetOf(top.text)}px: ${err.message}`);
          });
        const shown = await numbers();
        // Always a window: a bounded number of rows in the DOM, consecutive and ascending.
        expect(shown.length).toBeLessThan(80);
        expect(shown).toEqual(shown.map((_, i) => shown[0]! + i));
      }
      expect(pagesLoaded).toBeGreaterThanOrEqual(99);
      await log.evaluate((el) => el.scrollTo({ top: 0 }));
      await bubble(r, 'archived 1').waitFor();
      const first = await numbers();
      expect(first).toEqual(Array.from({ length: first.length }, (_, i) => i + 1));

      // Back to the newest message in one jump: still a window, ending at message 10,000.
      await r.getByRole('button', { name: 'Jump to latest ↓' }).click();
      await bubble(r, `archived ${total}`).waitFor();
      const last = await numbers();
      expect(last.at(-1)).toBe(total);
      expect(last.length).toBeLessThan(80);
      expect(reader.errors).toEqual([]);
    } finally {
      await reader.context.close();
    }
  }, 300_000);
});
