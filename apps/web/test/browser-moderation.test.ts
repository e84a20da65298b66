import { HttpApi, Session } from '@chat/client';
import type { Browser, Page } from 'playwright-core';
import { spawnNode, type StandaloneNode } from '@chat/testkit';
import { PASSWORD, bubble, composer, createRoom, joinRoom, roomHeading, send, signUp } from './support/app-driver';
import { launchBrowser, newUserPage, socketSwitch } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * The moderation screens (issue 10, part 2) in Chromium against a real node: an owner deletes a member's
 * message, promotes and demotes them, times them out and bans them from the member list, sees a refusal
 * from the server, unbans from the ban list and reads the audit log; the member's two tabs follow each
 * step at once.
 */

const suffix = Math.random().toString(36).slice(2, 7);

/**
 * Opens the actions under a member's row. The row's button toggles them, and a confirmed action closes them
 * when its HTTP answer comes back, which can be after the socket's `member:updated` has already changed the
 * row: wait for an earlier action's panel to close first, or the click would close it instead of opening it.
 */
async function manage(page: Page, name: string) {
  const panel = page.getByRole('group', { name: `Manage ${name}` });
  await panel.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: `Manage ${name}` }).click();
  await panel.waitFor();
}

function memberRow(page: Page, name: string) {
  return page.getByRole('complementary', { name: 'Members' }).getByRole('listitem').filter({ hasText: name });
}

describe('web app: moderation screens', () => {
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

  test('an owner deletes, promotes, times out and bans a member whose two tabs follow at once; a refusal is shown; unban and the audit log', async () => {
    const owner = await newUserPage(browser);
    const mark = await newUserPage(browser);
    const o = owner.page;
    const m1 = mark.page;
    const zedSession = new Session({ api: new HttpApi({ baseUrl: node.url }) });
    await zedSession.register({ username: `mzed_${suffix}`, password: PASSWORD, displayName: 'Zed' });
    const zed = new HttpApi({ baseUrl: node.url }).withAuth(zedSession);
    // The owner's socket can be cut (the page's HTTP still works), to act on a view gone stale.
    const sockets = await socketSwitch(owner.context);
    try {
      await signUp(o, node.url, `mowner_${suffix}`, 'Olivia');
      await signUp(m1, node.url, `mmark_${suffix}`, 'Mark');
      const room = `Moderated ${suffix}`;
      await createRoom(o, room);
      const roomId = decodeURIComponent((await o.evaluate(() => window.location.hash)).replace('#/rooms/', ''));
      await joinRoom(m1, room);
      await zed.joinRoom(roomId);
      // Mark's second tab: the same browser profile, so the same session.
      const m2 = await mark.context.newPage();
      await m2.goto(`${node.url}/#/rooms/${encodeURIComponent(roomId)}`);
      await roomHeading(m2, room).waitFor();

      // A moderator deletes someone else's message; both of Mark's tabs show it gone.
      await send(m1, 'buy cheap stuff');
      await bubble(o, 'buy cheap stuff').hover();
      await bubble(o, 'buy cheap stuff').getByRole('button', { name: 'Delete' }).click();
      await o.getByRole('button', { name: 'Delete?' }).click();
      for (const page of [m1, m2]) await page.getByRole('log', { name: 'Messages' }).getByText('Message deleted').waitFor();

      // Promote, then demote, from the member list.
      await o.getByRole('button', { name: /^Members/ }).click();
      await manage(o, 'Mark');
      await o.getByRole('button', { name: 'Make admin' }).click();
      await o.getByRole('group', { name: 'Manage Mark' }).getByText('Make Mark an admin?', { exact: false }).waitFor();
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Make admin' }).click();
      await memberRow(o, 'Mark').getByText('admin', { exact: true }).waitFor();
      // This time the HTTP answer is held until the socket's member:updated has changed the row (the order
      // a loaded machine can produce): the panel stays open until the answer comes, and closes then.
      const memberPath = /\/api\/rooms\/[^/]+\/members\/[^/?]+$/;
      let releaseRole: () => void = () => {};
      const roleGate = new Promise<void>((resolve) => (releaseRole = resolve));
      await o.route(memberPath, async (route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        const response = await route.fetch();
        await roleGate;
        await route.fulfill({ response });
      });
      await manage(o, 'Mark');
      await o.getByRole('button', { name: 'Make member' }).click();
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Make member' }).click();
      await memberRow(o, 'Mark').getByText('admin', { exact: true }).waitFor({ state: 'detached' });
      expect(await o.getByRole('group', { name: 'Manage Mark' }).count()).toBe(1);

      // Time out for a chosen duration, with a reason: both tabs lose the composer at once.
      const opening = manage(o, 'Mark');
      releaseRole();
      await opening;
      await o.unroute(memberPath);
      await o.getByRole('button', { name: 'Time out' }).click();
      await o.getByLabel('Time out Mark for').selectOption({ label: '10 minutes' });
      await o.getByLabel('Reason').fill('cool down');
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Time out' }).click();
      for (const page of [m1, m2]) await page.getByText('A moderator has timed you out in this room', { exact: false }).waitFor();
      expect(await composer(m1).count()).toBe(0);
      await memberRow(o, 'Mark').getByText('timed out until', { exact: false }).waitFor();

      // The server's refusal is shown as it is: Zed left while the owner's view was stale (her socket cut).
      await sockets.cut();
      await o.getByRole('status').getByText(/Reconnecting|Retrying/).waitFor();
      await zed.leaveRoom(roomId);
      await manage(o, 'Zed');
      await o.getByRole('button', { name: 'Remove' }).click();
      await o.getByRole('group', { name: 'Manage Zed' }).getByRole('button', { name: 'Remove' }).click();
      const refusal = o.getByRole('group', { name: 'Manage Zed' }).getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.textContent()).toMatch(/member/i);
      // Back online: the list catches up and Zed's row goes.
      sockets.restore();
      await o.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(() => undefined);
      await memberRow(o, 'Zed').waitFor({ state: 'detached', timeout: 30_000 });

      // Ban with a reason: Mark's tabs lose the room at once and are told they are not a member.
      await manage(o, 'Mark');
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Ban', exact: true }).click();
      await o.getByLabel('Reason').fill('spam');
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Ban' }).click();
      for (const page of [m1, m2]) {
        await page.getByText('You are not a member of this room.').waitFor();
        expect(await page.getByRole('navigation', { name: 'Rooms' }).getByText(room).count()).toBe(0);
      }
      await memberRow(o, 'Mark').waitFor({ state: 'detached' });

      // The ban list shows him with the reason; unban empties it.
      await o.getByRole('button', { name: 'Ban list' }).click();
      const banned = o.getByRole('region', { name: 'Banned' });
      await banned.getByText('spam').waitFor();
      await banned.getByRole('button', { name: 'Unban Mark' }).click();
      await banned.getByText('Nobody is banned.').waitFor();

      // The audit log, newest first, in words.
      await o.getByRole('button', { name: 'Audit log' }).click();
      const log = o.getByRole('region', { name: 'Audit log' });
      await log.getByText('Olivia unbanned Mark').waitFor();
      const lines = await log.getByRole('listitem').locator('span').allTextContents();
      expect(lines).toEqual([
        'Olivia unbanned Mark',
        'Olivia banned Mark (spam)',
        'Olivia timed out Mark for 10 minutes (cool down)',
        'Olivia changed the role of Mark to member',
        'Olivia changed the role of Mark to admin',
      ]);

      // Mark is invited back and the room handed over to him: the roles swap in the list.
      await o.getByLabel('Invite someone').fill(`mmark_${suffix}`);
      await o.getByRole('button', { name: 'Invite Mark' }).click();
      await roomHeading(m1, room).waitFor();
      await manage(o, 'Mark');
      await o.getByRole('button', { name: 'Make owner' }).click();
      await o.getByRole('group', { name: 'Manage Mark' }).getByRole('button', { name: 'Hand over' }).click();
      await memberRow(o, 'Mark').getByText('owner', { exact: true }).waitFor();
      await memberRow(o, 'Olivia').getByText('admin', { exact: true }).waitFor();
      // Now an admin, Olivia has no say over the owner.
      expect(await o.getByRole('button', { name: 'Manage Mark' }).count()).toBe(0);
      expect(owner.errors).toEqual([]);
      expect(mark.errors).toEqual([]);
    } finally {
      await owner.context.close();
      await mark.context.close();
    }
  }, 180_000);

  test('an owner renames the room and sets its topic; a member sees both at once, and a plain member has no way to change them', async () => {
    const owner = await newUserPage(browser);
    const member = await newUserPage(browser);
    const o = owner.page;
    const m = member.page;
    await signUp(o, node.url, `rowner_${suffix}`, 'Rita');
    await signUp(m, node.url, `rmember_${suffix}`, 'Max');
    const room = `Plain ${suffix}`;
    await createRoom(o, room);
    await joinRoom(m, room);
    expect(await m.getByRole('button', { name: 'Edit room' }).count()).toBe(0);

    await o.getByRole('button', { name: 'Edit room' }).click();
    const form = o.getByRole('form', { name: 'Room settings' });
    await form.getByLabel('Room name').fill('');
    await form.getByText('The room needs a name.').waitFor();
    expect(await form.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    const renamed = `Tea ${suffix}`;
    await form.getByLabel('Room name').fill(renamed);
    await form.getByLabel('Topic').fill('Oolong, mostly');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });

    // Both the header and the room list, on both pages, without a reload.
    for (const page of [o, m]) {
      await roomHeading(page, renamed).waitFor();
      await page.getByLabel('Topic').filter({ hasText: 'Oolong, mostly' }).waitFor();
      await page.getByRole('navigation', { name: 'Rooms' }).getByRole('button').filter({ hasText: renamed }).waitFor();
    }
    expect(owner.errors).toEqual([]);
    expect(member.errors).toEqual([]);
    await owner.context.close();
    await member.context.close();
  });
});
