import { http, registerUser, TEST_JWT_SECRET } from './support/harness';
import { useNode } from './support/node-fixture';
import { loadConfig } from '../src/index';

// Password hashing is capped per node (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_MAX_WAITING): a burst of
// sign-ups beyond the queue is answered 503 UNAVAILABLE with retryAfterMs and stores nothing, and a sign-up
// for a taken name is refused before any hash, so it is answered CONFLICT even while the hasher is full.

const productionArgon2 = loadConfig({ JWT_SECRET: TEST_JWT_SECRET }).argon2;

describe('password hashing under a burst', () => {
  const node = useNode('postgres', {
    env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_MAX_WAITING: '1' },
    adjust: (config) => ({ ...config, argon2: productionArgon2 }),
  });

  test('sign-ups beyond the queue are UNAVAILABLE and store nothing; a taken name is CONFLICT at once', async () => {
    const taken = await registerUser(node, 'taken');
    const names = Array.from({ length: 8 }, (_, i) => `burst${i}${Date.now() % 100_000}`);
    const register = (username: string) =>
      http<{ error?: { code: string; retryAfterMs?: number } }>(node.url, 'POST', '/api/auth/register', { body: { username, password: 'correct horse battery' } });
    const burst = names.map((username) => register(username));
    const duplicate = register(taken.user.username);
    const [answers, dup] = await Promise.all([Promise.all(burst), duplicate]);

    expect(dup.status).toBe(409);
    expect(dup.body.error?.code).toBe('CONFLICT');
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 201).length + refused.length).toBe(names.length);
    for (const r of refused) {
      expect(r.body.error?.code).toBe('UNAVAILABLE');
      expect(r.body.error?.retryAfterMs).toBeGreaterThan(0);
    }
    // A refused sign-up stored nothing: the same name registers when asked again.
    const again = names[answers.findIndex((a) => a.status === 503)]!;
    expect((await register(again)).status).toBe(201);
  });
});
