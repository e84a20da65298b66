import { createServer } from 'node:net';
import { createTestDatabase, waitUntil } from '@chat/testkit';
import type { TestDatabase } from '@chat/testkit';
import { createDatabase } from '../src/index';

// A replica that refuses connections (stopped) must be marked down and stay down. Reads to it fall back to the
// primary; the probe must not: through the fallback it read the primary's own position and marked the
// stopped replica up again at every probe.

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});

/** A loopback port with nothing listening on it: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a replica that refuses connections is probed as down, not through the primary', async () => {
  const errors: string[] = [];
  const url = new URL(testDb.url);
  url.port = String(await closedPort());
  const db = await createDatabase({
    kind: 'postgres',
    primaryUrl: testDb.url,
    replicaUrls: [url.toString()],
    replicaProbeIntervalMs: 50,
    logger: { error: (_obj, msg) => errors.push(msg ?? '') },
  });
  try {
    await waitUntil(async () => errors.includes('replica probe failed; reads skip it') || undefined, {
      description: "the replica's probe to fail",
      timeoutMs: 10_000,
    });
    expect(db.reads.health()).toEqual([{ name: 'replica-0', up: false, lagBytes: null, lagSeconds: null }]);
    // Reads still answer, from the primary.
    expect(db.reads.pick().name).toBe('primary');
  } finally {
    await db.close();
  }
});
