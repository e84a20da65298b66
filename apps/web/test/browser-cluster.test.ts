import type { Browser } from 'playwright-core';
import { describeClusterLogs, startCluster, type Cluster } from '@chat/testkit';
import { bubble, composer, createRoom, joinRoom, renderedTexts, send, signUp, waitForStatus } from './support/app-driver';
import { launchBrowser, newUserPage } from './support/browser';
import { ensureWebBuild } from './support/web-build';

/**
 * The built web app in Chromium against a 2-node cluster behind NGINX (ip_hash), PostgreSQL primary +
 * replica and Redis: the node both browsers are on (one source address, one node) is killed with SIGKILL.
 */

const suffix = Math.random().toString(36).slice(2, 7);

async function nodeBehindNginx(cluster: Cluster): Promise<string> {
  // ip_hash: this process and Chromium both connect from 127.0.0.1, so they reach the same node.
  const res = await fetch(`${cluster.entryUrl}/readyz`);
  const body = (await res.json()) as { node: string };
  return body.node;
}

describe('web app in Chromium against a 2-node cluster behind NGINX', () => {
  let cluster: Cluster;
  let browser: Browser;

  beforeAll(async () => {
    const webRoot = ensureWebBuild();
    [cluster, browser] = await Promise.all([startCluster({ nodes: 2, webRoot, timeoutMs: 180_000 }), launchBrowser()]);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  test('the node a user is on is killed: the banner shows reconnecting, a message typed meanwhile is delivered after the reconnect, nothing lost or doubled', async () => {
    const alice = await newUserPage(browser);
    const bob = await newUserPage(browser);
    const a = alice.page;
    const b = bob.page;
    // Alice's reconnection attempts can be held back (failed at once, like a flaky network) so that the
    // window between losing the node and reaching the other one is long enough to type in.
    let holdAlice = false;
    await alice.context.routeWebSocket(/\/socket\.io\//, (ws) => {
      const server = ws.connectToServer();
      if (holdAlice) void server.close({ code: 4000, reason: 'held by the test' });
    });
    try {
      await signUp(a, cluster.entryUrl, `alice_${suffix}`, 'Alice');
      await signUp(b, cluster.entryUrl, `bob_${suffix}`, 'Bob');
      const room = `Cluster ${suffix}`;
      await createRoom(a, room);
      await joinRoom(b, room);
      await send(a, 'before the crash (alice)');
      await bubble(b, 'before the crash (alice)').waitFor();
      await send(b, 'before the crash (bob)');
      await bubble(a, 'before the crash (bob)').waitFor();

      const victimId = await nodeBehindNginx(cluster);
      const victim = cluster.nodes.find((n) => n.id === victimId)!;
      holdAlice = true;
      await victim.kill('SIGKILL');

      // Alice's banner tells the truth: the connection is lost, with the countdown to the next attempt.
      await a.getByRole('status').getByText(/Connection lost\. Reconnecting in \d+ seconds?\./).waitFor({ timeout: 30_000 });
      expect(await a.locator('[data-connection-state]').getAttribute('data-connection-state')).toBe('reconnecting');
      // She types meanwhile; the message waits, clearly marked.
      await composer(a).pressSequentially('typed while the node was down', { delay: 10 });
      await composer(a).press('Enter');
      await waitForStatus(a, 'typed while the node was down', 'sending');
      await bubble(a, 'typed while the node was down').getByText('waiting for connection').waitFor();
      // Bob reconnects through NGINX to the surviving node and keeps chatting; Alice will get it via sync.
      await send(b, 'while alice was away (bob)');
      await waitForStatus(b, 'while alice was away (bob)', 'sent');

      // The network lets Alice through again: she reaches the other node, her message goes out.
      holdAlice = false;
      // "Retry now" cuts a scheduled wait short; while an attempt is in flight (on a loaded machine it may
      // outlast the click's timeout) there is no button, and the attempt itself gets her through. Either
      // way the next line requires the connection back.
      await a.getByRole('button', { name: 'Retry now' }).click({ timeout: 10_000 }).catch(async (err: unknown) => {
        const state = await a.locator('[data-connection-state]').getAttribute('data-connection-state');
        if (state !== 'connected' && state !== 'reconnecting' && state !== 'connecting') throw err;
      });
      await a.locator('[data-connection-state="connected"]').waitFor({ state: 'attached', timeout: 60_000 });
      await bubble(b, 'typed while the node was down').waitFor({ timeout: 60_000 });
      await bubble(a, 'while alice was away (bob)').waitFor({ timeout: 60_000 });
      await waitForStatus(a, 'typed while the node was down', 'read', 60_000);
      expect(await nodeBehindNginx(cluster)).not.toBe(victimId);

      // Neither side lost or doubled a message; both show the same order as the stored history.
      const expected = ['before the crash (alice)', 'before the crash (bob)', 'while alice was away (bob)', 'typed while the node was down'];
      expect(await renderedTexts(a)).toEqual(expected);
      expect(await renderedTexts(b)).toEqual(expected);
      // A reload on the surviving node shows the same history, once.
      await a.reload();
      await bubble(a, 'typed while the node was down').waitFor();
      expect(await renderedTexts(a)).toEqual(expected);
      expect(alice.errors).toEqual([]);
      expect(bob.errors).toEqual([]);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${describeClusterLogs(cluster)}`);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  }, 300_000);
});
