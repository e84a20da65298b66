import { waitUntil } from '@chat/testkit';
import { registerUser } from './support/harness';
import { attempt, closeAll, freshLoopbackAddress, handshakes, type Attempt } from './support/admission-client';
import { useNode } from './support/node-fixture';

// Caps on sockets connected at once (issue 9, item 1): per user across the cluster (counted by the presence
// store: memory here, Redis in a cluster — the store's contract suite runs on both), and per client address
// on a node. Over a cap: connect_error RATE_LIMITED with retryAfterMs; a closed socket frees its place.

describe.each(['pglite', 'postgres'] as const)('socket caps on %s', (backend) => {
  const node = useNode(backend, { env: { SOCKETS_PER_USER_MAX: '2', SOCKETS_PER_ADDRESS_MAX: '3' } });
  const opened: Attempt[] = [];
  afterAll(() => closeAll(opened));
  const open = async (token: string, from: string) => {
    const a = await attempt(node, token, from);
    opened.push(a);
    return a;
  };

  test('a user over the cap is refused until one of their sockets closes; other users are not affected', async () => {
    const user = await registerUser(node);
    const other = await registerUser(node);
    const first = await open(user.accessToken, freshLoopbackAddress());
    const second = await open(user.accessToken, freshLoopbackAddress());
    expect([first.ok, second.ok]).toEqual([true, true]);
    const third = await open(user.accessToken, freshLoopbackAddress());
    expect(third).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: 'too many connections for this user' } });
    expect(third.ok === false && third.error!.retryAfterMs).toBeGreaterThan(0);
    expect((await open(other.accessToken, freshLoopbackAddress())).ok).toBe(true);

    if (first.ok) first.socket.close();
    // The node counts the socket out when it sees the disconnect: the next handshake finds the place free.
    const again = await waitUntil(async () => {
      const a = await open(user.accessToken, freshLoopbackAddress());
      return a.ok ? a : false;
    }, { description: 'a place freed by the closed socket' });
    expect(again.ok).toBe(true);
  });

  test('an address over the cap is refused, other addresses are not; a closed socket frees its place', async () => {
    const from = freshLoopbackAddress();
    const users = await Promise.all([1, 2, 3, 4].map(() => registerUser(node)));
    const sockets: Attempt[] = [];
    for (const u of users.slice(0, 3)) sockets.push(await open(u.accessToken, from));
    expect(sockets.map((s) => s.ok)).toEqual([true, true, true]);
    const refused = await open(users[3]!.accessToken, from);
    expect(refused).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: 'too many connections from this address' } });
    expect(await handshakes(node, 'rejected', 'address_sockets')).toBeGreaterThanOrEqual(1);
    expect((await open(users[3]!.accessToken, freshLoopbackAddress())).ok).toBe(true);

    if (sockets[0]!.ok) sockets[0]!.socket.close();
    const again = await waitUntil(async () => {
      const a = await open(users[0]!.accessToken, from);
      return a.ok ? a : false;
    }, { description: 'a place freed at the address' });
    expect(again.ok).toBe(true);
  });
});
