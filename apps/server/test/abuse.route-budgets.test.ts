import { LIMITS } from '@chat/protocol';
import { http, registerUser, type TestUser } from './support/harness';
import { useNode } from './support/node-fixture';

// REST budgets by route class (issue 9, item 1): per client address before the token is checked, per user
// after it; over budget RATE_LIMITED with retryAfterMs, and nothing done. Scaled down by
// HTTP_BUDGET_MULTIPLIER so a test reaches them; clients are told apart by X-Forwarded-For from a trusted proxy.

const SCALE = 0.05;
const budget = (n: number) => Math.max(1, Math.round(n * SCALE));
const PER_MINUTE = LIMITS.httpRequestsPerMinute;

describe('REST budgets', () => {
  const node = useNode('pglite', { env: { HTTP_BUDGET_MULTIPLIER: String(SCALE), TRUST_PROXY: '127.0.0.1' } });
  let next = 1;
  const fromNewAddress = () => ({ 'x-forwarded-for': `198.51.100.${next++}` });

  const createRoom = (user: TestUser, name: string, headers: Record<string, string>) =>
    http<{ room?: { id: string }; error?: { code: string; retryAfterMs?: number } }>(node.url, 'POST', '/api/rooms', {
      token: user.accessToken,
      body: { name, type: 'public' },
      headers,
    });

  test('a user over the room-changes budget is refused with RATE_LIMITED and nothing is created; another user is not', async () => {
    const address = fromNewAddress();
    const alice = await registerUser(node, 'alice');
    const bob = await registerUser(node, 'bob');
    const allowed = budget(PER_MINUTE.rooms.user);
    for (let i = 0; i < allowed; i++) expect((await createRoom(alice, `alice ${i}`, address)).status).toBe(201);
    const refused = await createRoom(alice, 'one too many', address);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.body.error!.retryAfterMs).toBeGreaterThan(0);
    expect(refused.body.error!.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Nothing was created by the refused request.
    const rooms = await http<{ rooms: { name: string }[] }>(node.url, 'GET', '/api/rooms', { token: alice.accessToken, headers: address });
    expect(rooms.body.rooms.map((r) => r.name).sort()).toEqual(Array.from({ length: allowed }, (_, i) => `alice ${i}`).sort());
    // Bob, from the same address, has a budget of his own.
    expect((await createRoom(bob, 'bob 0', address)).status).toBe(201);
  });

  test('an address over a class budget is refused for every user behind it, before any token is checked', async () => {
    const address = fromNewAddress();
    const carol = await registerUser(node, 'carol');
    const allowed = budget(PER_MINUTE.search.address);
    // Bad tokens count against the address: a flood of them is bounded too.
    for (let i = 0; i < allowed; i++) {
      expect((await http(node.url, 'GET', '/api/search?q=x', { token: 'not-a-token', headers: address })).status).toBe(401);
    }
    const refused = await http<{ error: { code: string; message: string } }>(node.url, 'GET', '/api/search?q=x', { token: carol.accessToken, headers: address });
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED', message: 'too many requests from this address' } } });
    // Another address, another budget; another class at the same address, too.
    expect((await http(node.url, 'GET', '/api/search?q=x', { token: carol.accessToken, headers: fromNewAddress() })).status).toBe(200);
    expect((await http(node.url, 'GET', '/api/rooms', { token: carol.accessToken, headers: address })).status).toBe(200);
  });

  test('sign-up and sign-in share the auth budget of an address', async () => {
    const address = fromNewAddress();
    const allowed = budget(PER_MINUTE.auth.address);
    const register = (i: number) =>
      http(node.url, 'POST', '/api/auth/register', { body: { username: `budget_${next}_${i}`, password: 'long enough password' }, headers: address });
    for (let i = 0; i < allowed; i++) expect((await register(i)).status).toBe(201);
    expect((await register(allowed)).status).toBe(429);
    expect((await http(node.url, 'POST', '/api/auth/login', { body: { username: `budget_${next}_0`, password: 'long enough password' }, headers: address })).status).toBe(429);
    // The operations routes have no budget.
    expect((await http(node.url, 'GET', '/healthz', { headers: address })).status).toBe(200);
  });
});
