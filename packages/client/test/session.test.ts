import { ChatError } from '@chat/protocol';
import { HttpApi, Session, type Tokens } from '@chat/client';

const user = { id: 'u1', username: 'alice', displayName: 'Alice', createdAt: '2024-01-01T00:00:00.000Z' };

interface Call {
  url: string;
  method: string;
  auth: string | null;
  body: unknown;
}

/** A scripted fetch: each handler answers one request. Mocking fetch is fine here: it tests the SDK's own logic. */
function scriptedFetch(handler: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      auth: headers.get('authorization'),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    return handler(call);
  }) as typeof fetch;
  return { fetchFn, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function setup(handler: (call: Call) => Response | Promise<Response>, tokens: Tokens = { accessToken: 'a0', refreshToken: 'r0' }) {
  const { fetchFn, calls } = scriptedFetch(handler);
  const anon = new HttpApi({ baseUrl: 'http://chat.test/', fetch: fetchFn });
  const persisted: (Tokens | null)[] = [];
  const session = new Session({ api: anon, tokens, onTokens: (t) => persisted.push(t) });
  return { api: anon.withAuth(session), session, calls, persisted };
}

describe('Session', () => {
  test('two concurrent refreshes make one call and share its result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { session, calls, persisted } = setup(async (c) => {
      await gate;
      expect(c.body).toEqual({ refreshToken: 'r0' });
      return json(200, { accessToken: 'a1', refreshToken: 'r1' });
    });
    const p1 = session.refresh();
    const p2 = session.refresh();
    release();
    await expect(Promise.all([p1, p2])).resolves.toEqual([
      { accessToken: 'a1', refreshToken: 'r1' },
      { accessToken: 'a1', refreshToken: 'r1' },
    ]);
    expect(calls.filter((c) => c.url.endsWith('/api/auth/refresh'))).toHaveLength(1);
    expect(persisted).toEqual([{ accessToken: 'a1', refreshToken: 'r1' }]);
    expect(session.getAccessToken()).toBe('a1');
  });

  test('concurrent requests refused UNAUTHORIZED trigger one refresh, and each is retried once', async () => {
    const { api, calls } = setup((c) => {
      if (c.url.endsWith('/api/auth/refresh')) return json(200, { accessToken: 'a1', refreshToken: 'r1' });
      if (c.auth === 'Bearer a0') return json(401, { error: { code: 'UNAUTHORIZED', message: 'expired' } });
      return json(200, { user });
    });
    const [m1, m2] = await Promise.all([api.me(), api.me()]);
    expect(m1.user).toEqual(user);
    expect(m2.user).toEqual(user);
    expect(calls.filter((c) => c.url.endsWith('/refresh'))).toHaveLength(1);
    expect(calls.filter((c) => c.url.endsWith('/api/me')).map((c) => c.auth)).toEqual(['Bearer a0', 'Bearer a0', 'Bearer a1', 'Bearer a1']);
  });

  test('a second UNAUTHORIZED after the refresh is final; a refused refresh ends the session', async () => {
    const { api, session, calls, persisted } = setup((c) => {
      if (c.url.endsWith('/api/auth/refresh')) return json(200, { accessToken: 'a1', refreshToken: 'r1' });
      return json(401, { error: { code: 'UNAUTHORIZED', message: 'nope' } });
    });
    await expect(api.listRooms()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'nope' });
    expect(calls.map((c) => c.url.replace('http://chat.test', ''))).toEqual(['/api/rooms', '/api/auth/refresh', '/api/rooms']);

    const dead = setup(() => json(401, { error: { code: 'UNAUTHORIZED', message: 'refresh token reused' } }));
    await expect(dead.session.refresh()).rejects.toBeInstanceOf(ChatError);
    expect(dead.session.getAccessToken()).toBeUndefined();
    expect(dead.persisted).toEqual([null]);
    expect(session.getAccessToken()).toBe('a1');
    expect(persisted).toEqual([{ accessToken: 'a1', refreshToken: 'r1' }]);
  });
});

describe('HttpApi', () => {
  test('non-2xx bodies become ChatErrors with code, message, retryAfterMs and details', async () => {
    const { api } = setup(() =>
      json(429, { error: { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 800, details: { scope: 'user' } } }),
    );
    const err = await api.createRoom({ name: 'x', type: 'public' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 800, details: { scope: 'user' } });
  });

  test('a network failure is UNAVAILABLE; a gateway page maps its status; drift is INTERNAL', async () => {
    const down = setup(() => Promise.reject(new TypeError('fetch failed')));
    await expect(down.api.me()).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    const gateway = setup(() => new Response('<html>502</html>', { status: 502 }));
    await expect(gateway.api.me()).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    const drift = setup(() => json(200, { user: { id: 'u1' } }));
    await expect(drift.api.me()).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  test('builds paths, queries and bodies from the protocol routes', async () => {
    const { api, calls } = setup((c) => {
      if (c.url.includes('/messages')) return json(200, { messages: [], hasMore: false });
      if (c.url.includes('/join')) return json(202, { joinRequest: { roomId: 'r1', userId: 'u1', status: 'pending', createdAt: user.createdAt } });
      return new Response(null, { status: 204 });
    });
    await expect(api.history('r 1', { after: 10, limit: 20 })).resolves.toEqual({ messages: [], hasMore: false });
    await expect(api.joinRoom('r 1')).resolves.toMatchObject({ joinRequest: { status: 'pending' } });
    await expect(api.timeout('r1', 'u2', 60, 'spam')).resolves.toBeUndefined();
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['GET', 'http://chat.test/api/rooms/r%201/messages?after=10&limit=20', undefined],
      ['POST', 'http://chat.test/api/rooms/r%201/join', undefined],
      ['POST', 'http://chat.test/api/rooms/r1/timeouts', { userId: 'u2', seconds: 60, reason: 'spam' }],
    ]);
    expect(calls.every((c) => c.auth === 'Bearer a0')).toBe(true);
  });
});
