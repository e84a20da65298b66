import { testServices, waitUntil } from '@chat/testkit';
import { attempt, closeAll, freshLoopbackAddress, handshakes, type Attempt } from './support/admission-client';
import { createDataHome, registerUser, startNode, type DataHome, type TestNode, type TestUser } from './support/harness';

// Handshake admission control through real Socket.IO clients connecting from different loopback source
// addresses, with the in-memory store (embedded) and the Redis store. Budgets are made small per test;
// a 30 s window keeps "in the same window" true on a slow machine, a 1 s window shows the refill.

const modes: [string, Record<string, string>][] = [
  ['memory store', {}],
  ['redis store', { REDIS_URL: testServices().redisUrl }],
];

/** Per-second rates that give `points` per window of `windowSeconds`. */
function budget(points: { node: number; ip: number }, windowSeconds: number): Record<string, string> {
  return {
    ADMISSION_WINDOW_SECONDS: String(windowSeconds),
    ADMISSION_NODE_PER_SECOND: String(points.node / windowSeconds),
    ADMISSION_IP_PER_SECOND: String(points.ip / windowSeconds),
  };
}

async function attemptsInOrder(node: TestNode, token: string, from: string, count: number): Promise<Attempt[]> {
  const out: Attempt[] = [];
  for (let i = 0; i < count; i++) out.push(await attempt(node, token, from));
  return out;
}

describe.each(modes)('handshake admission: %s', (_name, storeEnv) => {
  let home: DataHome;
  let user: TestUser;
  const nodes: TestNode[] = [];
  const sockets: Attempt[] = [];

  async function node(env: Record<string, string>): Promise<TestNode> {
    const n = await startNode(home, { ...storeEnv, ...env });
    nodes.push(n);
    return n;
  }

  beforeAll(async () => {
    home = await createDataHome('pglite');
    // Registration happens on a node without tight budgets; the budgets live per node id and address.
    const setup = await node({});
    user = await registerUser(setup);
  });

  afterEach(async () => {
    closeAll(sockets.splice(0));
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  afterAll(async () => {
    await home.dispose();
  });

  test('over the address budget: connect_error RATE_LIMITED with a jittered retryAfterMs; other addresses unaffected', async () => {
    const n = await node(budget({ node: 1000, ip: 3 }, 30));
    const from = freshLoopbackAddress();
    const tries = await attemptsInOrder(n, user.accessToken, from, 11);
    sockets.push(...tries);

    expect(tries.map((t) => t.ok)).toEqual([true, true, true, ...Array(8).fill(false)]);
    const refusals = tries.filter((t): t is Extract<Attempt, { ok: false }> => !t.ok);
    for (const r of refusals) {
      expect(r.message).toBe('RATE_LIMITED');
      expect(r.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.any(String) });
      // The rest of the 30 s window plus up to one window of jitter.
      expect(r.error!.retryAfterMs).toBeGreaterThan(0);
      expect(r.error!.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    // Jittered: the refused are not all told the same instant.
    expect(new Set(refusals.map((r) => r.error!.retryAfterMs)).size).toBeGreaterThan(1);

    const elsewhere = await attempt(n, user.accessToken, freshLoopbackAddress());
    sockets.push(elsewhere);
    expect(elsewhere.ok).toBe(true);
  });

  test('refused attempts consume nothing: the node budget is still there for other addresses; metrics count both', async () => {
    const n = await node(budget({ node: 5, ip: 2 }, 30));
    const [a, b, c, d] = [freshLoopbackAddress(), freshLoopbackAddress(), freshLoopbackAddress(), freshLoopbackAddress()];

    const fromA = await attemptsInOrder(n, user.accessToken, a, 12);
    sockets.push(...fromA);
    expect(fromA.filter((t) => t.ok)).toHaveLength(2);
    // Ten refusals of A: had they been counted against the node, B and C would be refused below.
    const fromB = await attemptsInOrder(n, user.accessToken, b, 2);
    const fromC = await attempt(n, user.accessToken, c);
    sockets.push(...fromB, fromC);
    expect([...fromB, fromC].map((t) => t.ok)).toEqual([true, true, true]);

    // Now the node's 5 are used: a fresh address is refused for the node's sake.
    const fromD = await attempt(n, user.accessToken, d);
    sockets.push(fromD);
    expect(fromD).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: 'too many new connections to this node' } });
    expect(fromA.find((t) => !t.ok)).toMatchObject({ error: { message: 'too many new connections from this address' } });

    expect(await handshakes(n, 'accepted', 'within_budget')).toBe(5);
    expect(await handshakes(n, 'rejected', 'ip_budget')).toBe(10);
    expect(await handshakes(n, 'rejected', 'node_budget')).toBe(1);
  });

  test('the address budget refills after the window, however often the client retried meanwhile', async () => {
    const n = await node(budget({ node: 1000, ip: 1 }, 1));
    const from = freshLoopbackAddress();
    const first = await attempt(n, user.accessToken, from);
    sockets.push(first);
    expect(first.ok).toBe(true);

    // Retry every 20 ms. A limiter that counted refusals into its window, or re-armed it on each, would
    // keep this client out for good; a fixed window lets it in once the window ends.
    let refused = 0;
    const admitted = await waitUntil(
      async () => {
        const t = await attempt(n, user.accessToken, from);
        sockets.push(t);
        if (t.ok) return t;
        expect(t.error?.code).toBe('RATE_LIMITED');
        refused++;
        return undefined;
      },
      { description: 'the address budget to refill', timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(admitted.ok).toBe(true);
    expect(refused).toBeGreaterThan(0);
  });

  test('the node budget refills after the window too', async () => {
    const n = await node(budget({ node: 2, ip: 1000 }, 1));
    const first = [await attempt(n, user.accessToken, freshLoopbackAddress()), await attempt(n, user.accessToken, freshLoopbackAddress())];
    sockets.push(...first);
    expect(first.map((t) => t.ok)).toEqual([true, true]);
    const over = await attempt(n, user.accessToken, freshLoopbackAddress());
    sockets.push(over);
    expect(over).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: 'too many new connections to this node' } });

    const later = await waitUntil(
      async () => {
        const t = await attempt(n, user.accessToken, freshLoopbackAddress());
        sockets.push(t);
        return t.ok ? t : undefined;
      },
      { description: 'the node budget to refill', timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(later.ok).toBe(true);
  });

  test('behind a trusted proxy, each forwarded client has its own budget; an untrusted peer cannot pose as one', async () => {
    const proxy = freshLoopbackAddress();
    const n = await node({ ...budget({ node: 1000, ip: 1 }, 30), TRUST_PROXY: proxy });
    const viaProxy = (client: string) => attempt(n, user.accessToken, proxy, { 'x-forwarded-for': client });

    const one = [await viaProxy('203.0.113.10'), await viaProxy('203.0.113.10')];
    const two = await viaProxy('203.0.113.11');
    sockets.push(...one, two);
    expect([...one, two].map((t) => t.ok)).toEqual([true, false, true]);

    // Not from the proxy: the header is ignored and the peer's own budget counts.
    const spoofer = freshLoopbackAddress();
    const spoofed = [
      await attempt(n, user.accessToken, spoofer, { 'x-forwarded-for': '203.0.113.12' }),
      await attempt(n, user.accessToken, spoofer, { 'x-forwarded-for': '203.0.113.13' }),
    ];
    sockets.push(...spoofed);
    expect(spoofed.map((t) => t.ok)).toEqual([true, false]);
  });

  test('admission runs before authentication: a refused handshake is RATE_LIMITED even with a bad token', async () => {
    const n = await node(budget({ node: 1000, ip: 1 }, 30));
    const from = freshLoopbackAddress();
    const bad = [await attempt(n, 'not-a-token', from), await attempt(n, 'not-a-token', from)];
    expect(bad.map((t) => (t.ok ? 'ok' : t.message))).toEqual(['UNAUTHORIZED', 'RATE_LIMITED']);
  });
});
