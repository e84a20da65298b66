import { sql } from '@chat/db';
import { waitUntil } from '@chat/testkit';
import { registerUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

// A socket's session is checked again when the access token it was admitted with expires (issue 9, item 3):
// a session revoked without the broadcast that disconnects its sockets loses them within a token lifetime.

const TTL_SECONDS = 10;

describeOnEachBackend('session recheck at token expiry', { env: { ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } }, (node) => {
  test('a socket of a session revoked behind the node\'s back is disconnected; one of an active session stays', async () => {
    const revokedUser = await registerUser(node, 'gone');
    const activeUser = await registerUser(node, 'stays');
    const { socket: doomed } = await node.connect(revokedUser.accessToken);
    const { socket: kept } = await node.connect(activeUser.accessToken);
    const disconnected = new Promise<string>((resolve) => doomed.once('disconnect', resolve));

    // Revoked in the database only: no logout, no broadcast, so nothing tells the socket.
    await sql`update sessions set revoked_at = now() where user_id = ${revokedUser.user.id}`.execute(node.app.db.primary);
    expect(await disconnected).toBe('io server disconnect');

    const checks = async (outcome: string) =>
      (await node.app.metrics.registry.getSingleMetric('chat_session_rechecks_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    expect(await checks('ended')).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await checks('active')) >= 1, { description: 'the active session to be checked' });
    expect(kept.connected).toBe(true);
  }, 60_000);
});
