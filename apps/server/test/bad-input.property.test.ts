import { randomUUID } from 'node:crypto';
import {
  CLIENT_EVENTS,
  CLIENT_EVENT_TABLE,
  ERROR_CODES,
  ERROR_STATUS,
  ErrorObjectSchema,
  HTTP_ROUTES,
  LIMITS,
  type ClientEventName,
  type ErrorCode,
  type HistoryResponse,
  type HttpRouteName,
  type Message,
} from '@chat/protocol';
import fc from 'fast-check';
import {
  BACKENDS,
  connectRaw,
  createDataHome,
  createRoom,
  http,
  joinRoom,
  registerUser,
  startNode,
  type DataHome,
  type RawSocket,
  type TestNode,
  type TestUser,
} from './support/harness';

// Issue 9: at least 10,000 malformed or arbitrary payloads per backend (counted, and checked by the last test).
const SOCKET_RUNS = 500;
const HTTP_RUNS = 220;
const FUZZ_MINIMUM = 10_000;
let payloadsSent = 0;

/** What Socket.IO and fetch put on the wire: JSON (undefined → dropped or null, NaN → null, -0 → 0). */
function overTheWire(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function encodable(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

// --- arbitraries ------------------------------------------------------------------------------------

// Large, but two of them still fit one 64 KiB packet.
const hugeString = fc.constantFrom('a'.repeat(4001), 'x'.repeat(20_000), 'é'.repeat(8_000), '😀'.repeat(4001));
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\n\t', 'a\u0000b', '\u0000', '\uD800', 'x\uDFFFy', '<script>alert(1)</script>', "'; drop table users; --", '%', '_', '../..'),
);
const badUuid = fc.oneof(
  fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-00000000000g', '123', 'room:1'),
  fc.uuid().map((u) => u.replace(/-/g, '')),
  fc.uuid().map((u) => `${u}x`),
  fc.uuid().map((u) => u.toUpperCase().slice(1)),
);
const badNumber = fc.oneof(
  fc.constantFrom(-1, -0, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, 0),
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.double({ noNaN: false }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }).map((b) => Number(b)),
);
const badValue = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, '', 0),
  fc.integer(),
  oddString,
  hugeString,
  badUuid,
  badNumber,
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
);

/**
 * A near-miss of a valid object: one field replaced by a bad value, one removed, or extra keys added.
 * The result may happen to be valid (an extra key, an optional field removed): the schema is the oracle.
 */
function nearMiss(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc
    .record({
      base: valid,
      mode: fc.constantFrom('replace', 'delete', 'extra', 'replace2'),
      pick: fc.nat(),
      pick2: fc.nat(),
      bad: badValue,
      bad2: badValue,
      extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.anything({ maxDepth: 1 }), { minKeys: 1, maxKeys: 3 }),
    })
    .map(({ base, mode, pick, pick2, bad, bad2, extra }) => {
      const out: Record<string, unknown> = { ...base };
      const keys = Object.keys(base);
      const key = keys[pick % keys.length]!;
      if (mode === 'delete') delete out[key];
      else if (mode === 'extra') Object.assign(out, extra, base);
      else {
        out[key] = bad;
        if (mode === 'replace2') out[keys[pick2 % keys.length]!] = bad2;
      }
      return out;
    });
}

// --- the oracles ------------------------------------------------------------------------------------

const VALID_SHAPE_ERRORS: ErrorCode[] = ['NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'VALIDATION', 'RATE_LIMITED'];
const LEAK = /"stack"|\n\s+at |\bat \S+ \(|node_modules|\.[jt]s:\d+|\bselect\b[\s\S]{0,200}\bfrom\b|\binsert into\b|\bupdate \w+ set\b|\bsyntax error\b|\bviolates\b/i;

/** Asserts one acknowledgement against the schema verdict; returns the ack. */
function checkAck(event: ClientEventName, wire: unknown, ack: unknown): { ok: boolean; message?: Message } {
  const verdict = CLIENT_EVENT_TABLE[event].payload.safeParse(wire);
  const label = { event, payload: JSON.stringify(wire)?.slice(0, 300) };
  expect({ ...label, isObject: typeof ack === 'object' && ack !== null }).toEqual({ ...label, isObject: true });
  const a = ack as { ok: unknown; error?: unknown; message?: Message };
  if (a.ok === true) {
    // Only an actually valid shape may succeed.
    expect({ ...label, valid: verdict.success }).toEqual({ ...label, valid: true });
    return { ok: true, ...(a.message ? { message: a.message } : {}) };
  }
  expect(Object.keys(a).sort()).toEqual(['error', 'ok']);
  expect(a.ok).toBe(false);
  const parsed = ErrorObjectSchema.strict().safeParse(a.error);
  expect({ ...label, error: a.error, wellFormed: parsed.success }).toEqual({ ...label, error: a.error, wellFormed: true });
  const code = (a.error as { code: ErrorCode }).code;
  expect(ERROR_CODES).toContain(code);
  expect(JSON.stringify(a.error)).not.toMatch(LEAK);
  if (!verdict.success) expect({ ...label, code }).toEqual({ ...label, code: 'VALIDATION' });
  else expect({ ...label, code, allowed: VALID_SHAPE_ERRORS.includes(code) }).toEqual({ ...label, code, allowed: true });
  return { ok: false };
}

interface HttpOutcome {
  status: number;
  contentType: string | null;
  text: string;
}

async function rawHttp(url: string, method: string, path: string, opts: { token?: string; body?: string; contentType?: string } = {}): Promise<HttpOutcome> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(url + path, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** Every failure is `{error: {code, message, ...}}` JSON with the status of PROTOCOL.md's table, and leaks nothing. */
function checkHttp(label: string, path: string, res: HttpOutcome): void {
  expect({ label, status: res.status, known: res.status < 400 || Object.values(ERROR_STATUS).includes(res.status as never) }).toEqual({
    label,
    status: res.status,
    known: true,
  });
  // The server never answers INTERNAL to client input.
  expect(res.status === 500 ? `${label} -> 500 ${res.text.slice(0, 300)}` : 'not internal').toBe('not internal');
  if (res.status < 400) return;
  expect(res.contentType ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(res.text) as { error?: { code?: ErrorCode } };
  expect(Object.keys(body)).toEqual(['error']);
  const parsed = ErrorObjectSchema.strict().safeParse(body.error);
  expect({ label, body, wellFormed: parsed.success }).toEqual({ label, body, wellFormed: true });
  expect({ label, code: body.error!.code, status: ERROR_STATUS[body.error!.code!] }).toEqual({ label, code: body.error!.code, status: res.status });
  // The 404 handler names the route asked for: that echo is the caller's own input, not a leak.
  const text = res.text.split(JSON.stringify(path.split('?')[0]).slice(1, -1)).join('');
  expect(text).not.toMatch(LEAK);
}

// --- the HTTP routes of the protocol (HTTP_ROUTES, docs/PROTOCOL.md) ----------------------------------

type Field = fc.Arbitrary<unknown>;
interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Valid-ish body fields, for near-miss bodies. */
  body?: Record<string, Field>;
  query?: Record<string, Field>;
  /** Ends the caller's sessions when it succeeds (sign out everywhere, password change). */
  endsSessions?: boolean;
}
type Fields = Pick<Route, 'body' | 'query'>;

const anyId = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));
const seqText = fc.oneof(fc.nat().map(String), badNumber.map(String), oddString);

/** Valid-ish fields of the routes that take a body or a query; the routes themselves come from the protocol's table. */
const FIELDS: Partial<Record<HttpRouteName, Fields>> = {
  register: { body: { username: fc.stringMatching(/^[a-z0-9_]{3,32}$/), password: fc.string({ minLength: 8, maxLength: 20 }), displayName: fc.string() } },
  login: { body: { username: fc.string(), password: fc.string() } },
  refresh: { body: { refreshToken: fc.string() } },
  logout: { body: { refreshToken: fc.string() } },
  searchUsers: { query: { query: fc.string() } },
  createRoom: { body: { name: fc.string({ maxLength: 100 }), type: fc.constantFrom('public', 'private', 'direct') } },
  directRoom: { body: { userId: anyId } },
  discoverRooms: { query: { query: fc.string() } },
  history: { query: { before: seqText, after: seqText, limit: seqText } },
  search: { query: { q: fc.string(), roomId: anyId } },
  invite: { body: { userId: anyId } },
  setRole: { body: { role: fc.constantFrom('owner', 'admin', 'member', 'god') } },
  ban: { body: { userId: anyId, reason: fc.string() } },
  timeout: { body: { userId: anyId, seconds: fc.integer(), reason: fc.string() } },
  auditLog: { query: { before: seqText, limit: seqText } },
};

// Every route of the API. The operations routes (/healthz, /readyz, /metrics) answer outside the error table:
// /readyz's 503 names the failing dependency instead of carrying an error body.
const ROUTES: Route[] = (Object.entries(HTTP_ROUTES) as [HttpRouteName, (typeof HTTP_ROUTES)[HttpRouteName]][])
  .filter(([, route]) => route.path.startsWith('/api/'))
  .map(([name, route]) => ({ method: route.method, path: route.path, ...FIELDS[name], endsSessions: name === 'logoutEverywhere' || name === 'changePassword' }));

describe.each(BACKENDS)('bad input on %s', (backend) => {
  let home: DataHome;
  let node: TestNode;
  let owner: TestUser;
  let fuzzer: TestUser;
  /** The caller of the routes that end sessions: the fuzzer's own token must stay valid for the tests after. */
  let leaver: TestUser;
  let roomId: string;
  let socket: RawSocket;
  const sockets: RawSocket[] = [];
  /** Messages stored by sends the server acknowledged ok: the only ones allowed in history. */
  const stored = new Map<string, Message>();

  beforeAll(async () => {
    home = await createDataHome(backend);
    // Receipts are acknowledged after their coalesced write: a short window keeps 500 of them quick.
    node = await startNode(home, { MESSAGES_PER_SECOND: '100000', RECEIPT_WINDOW_MS: '2' });
    payloadsSent = 0;
    owner = await registerUser(node, 'owner');
    fuzzer = await registerUser(node, 'fuzz');
    leaver = await registerUser(node, 'leaver');
    roomId = await createRoom(node, owner, 'public', 'fuzzed');
    await joinRoom(node, fuzzer, roomId);
    ({ socket } = await connectRaw(node, owner.accessToken));
    sockets.push(socket);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await node.close();
    await home.dispose();
  });

  /** Valid shapes, aimed at unknown rooms and messages (or the test room) so the verdict is the server's. */
  function validPayload(event: ClientEventName): fc.Arbitrary<Record<string, unknown>> {
    const room = fc.oneof(fc.constant(roomId), anyId);
    const text = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), oddString);
    const emoji = fc.oneof(fc.constantFrom('👍', '🎉', 'x'), oddString);
    switch (event) {
      case 'message:send':
        return fc.record({ id: fc.uuid(), roomId: room, content: text, replyTo: fc.uuid() }, { requiredKeys: ['id', 'roomId', 'content'] });
      case 'message:edit':
        return fc.record({ id: fc.uuid(), content: text });
      case 'message:delete':
        return fc.record({ id: fc.uuid() });
      case 'reaction:add':
      case 'reaction:remove':
        return fc.record({ messageId: fc.uuid(), emoji });
      case 'sync':
        return fc.record(
          { rooms: fc.array(fc.record({ roomId: room, afterSeq: fc.nat() }, { requiredKeys: ['roomId'] }), { maxLength: 3 }), limit: fc.integer({ min: 1, max: 1000 }) },
          { requiredKeys: [] },
        );
      case 'message:delivered':
      case 'message:read':
        return fc.record({ roomId: room, seq: fc.oneof(fc.nat(5), fc.nat()) });
      case 'typing':
        return fc.record({ roomId: room, typing: fc.boolean() });
      case 'presence:get':
        return fc.record({ userIds: fc.array(fc.oneof(anyId, fc.constant(owner.user.id)), { maxLength: 5 }) });
    }
  }

  test.each(CLIENT_EVENTS.map((e) => [e]))('%s: arbitrary payloads are acknowledged VALIDATION, or handled when the shape is valid', async (event) => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), nearMiss(validPayload(event)), validPayload(event)), async (payload) => {
        payloadsSent++;
        const ack = await socket.timeout(10_000).emitWithAck(event as 'sync', payload as never);
        const result = checkAck(event, overTheWire(payload), ack);
        if (event === 'message:send' && result.ok && result.message) stored.set(result.message.id, result.message);
      }),
      { numRuns: SOCKET_RUNS },
    );
    expect(socket.connected).toBe(true);
  });

  test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: arbitrary bodies, queries and params answer per the error table', async (_label, route) => {
    const param = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 70 }).filter(encodable),
      anyId,
      fc.constant(roomId),
      fc.constant(owner.user.id),
      oddString.filter(encodable),
    );
    const queryKeys = Object.keys(route.query ?? {});
    const query = fc.array(
      fc.tuple(queryKeys.length > 0 ? fc.oneof(fc.constantFrom(...queryKeys), fc.string({ maxLength: 8 })) : fc.string({ maxLength: 8 }), fc.oneof(fc.string(), oddString, seqText)),
      { maxLength: 4 },
    );
    const body = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      route.body ? nearMiss(fc.record(route.body)).map((v) => JSON.stringify(v)) : fc.constant('{}'),
      route.body ? fc.record(route.body).map((v) => JSON.stringify(v)) : fc.constant('null'),
      fc.constantFrom('{', '{"a":', 'nope', '[1,2', '"\\u00"', ''),
    );
    const token = fc.constantFrom<'valid' | 'none' | 'garbage'>('valid', 'valid', 'valid', 'none', 'garbage');
    await fc.assert(
      fc.asyncProperty(fc.record({ roomParam: param, userParam: param, query, body, token }), async (input) => {
        payloadsSent++;
        let path = route.path.replace(':roomId', encodeURIComponent(input.roomParam)).replace(':userId', encodeURIComponent(input.userParam));
        const qs = new URLSearchParams(input.query).toString();
        if (qs) path += `?${qs}`;
        const res = await rawHttp(node.url, route.method, path, {
          ...(input.token === 'valid' ? { token: (route.endsSessions ? leaver : fuzzer).accessToken } : input.token === 'garbage' ? { token: 'x.y.z' } : {}),
          ...(route.method !== 'GET' && input.body !== undefined ? { body: input.body } : {}),
        });
        checkHttp(`${route.method} ${path} ${input.body?.slice(0, 200) ?? ''}`, path, res);
      }),
      { numRuns: HTTP_RUNS },
    );
  });

  test('unknown events are ignored without an ack, and the connection is kept', async () => {
    let acked = false;
    (socket as unknown as { emit: (...args: unknown[]) => void }).emit('no:such:event', { roomId }, () => {
      acked = true;
    });
    (socket as unknown as { emit: (...args: unknown[]) => void }).emit('__proto__', {}, () => {
      acked = true;
    });
    // Packets are handled in order: once a later event is acknowledged, the unknown ones were ignored.
    expect(await socket.timeout(5000).emitWithAck('presence:get', { userIds: [] })).toEqual({ ok: true, presence: [] });
    expect(acked).toBe(false);
    expect(socket.connected).toBe(true);
  });

  test('events without an ack callback, without a payload, or with extra arguments crash nothing', async () => {
    const emit = (socket as unknown as { emit: (...args: unknown[]) => void }).emit.bind(socket);
    for (const event of CLIENT_EVENTS) {
      emit(event, { id: 'bad', roomId: '!!', content: 42 });
      emit(event);
      emit(event, { id: randomUUID(), roomId: 'no-such-room', content: 'no ack' });
    }
    // With only an ack callback the payload is missing: VALIDATION, answered exactly once.
    for (const event of CLIENT_EVENTS) {
      const ack = await (socket.timeout(5000) as unknown as { emitWithAck: (e: string) => Promise<unknown> }).emitWithAck(event);
      expect({ event, ack }).toEqual({ event, ack: { ok: false, error: expect.objectContaining({ code: 'VALIDATION' }) } });
    }
    // Extra arguments: the ack is still the last one.
    const extra = await (socket.timeout(5000) as unknown as { emitWithAck: (...a: unknown[]) => Promise<unknown> }).emitWithAck('presence:get', { userIds: [] }, 'surplus');
    expect(extra).toEqual({ ok: true, presence: [] });
    expect(await socket.timeout(5000).emitWithAck('typing', { roomId, typing: false })).toEqual({ ok: true });
  });

  test('a packet over 64 KiB closes that connection; the server and other clients carry on', async () => {
    const victim = await connectRaw(node, fuzzer.accessToken);
    sockets.push(victim.socket);
    const closed = new Promise<string>((resolve) => victim.socket.once('disconnect', (reason) => resolve(reason)));
    victim.socket.emit('message:send', { id: randomUUID(), roomId, content: 'x'.repeat(70 * 1024) }, () => {
      throw new Error('an oversized packet must not be acknowledged');
    });
    expect(await closed).toBe('transport close');
    expect(await socket.timeout(5000).emitWithAck('presence:get', { userIds: [] })).toEqual({ ok: true, presence: [] });
    const again = await connectRaw(node, fuzzer.accessToken);
    sockets.push(again.socket);
    expect(again.hello.userId).toBe(fuzzer.user.id);
    expect(await again.socket.timeout(5000).emitWithAck('presence:get', { userIds: [] })).toEqual({ ok: true, presence: [] });
  });

  test('an HTTP body over 1 MiB is 413 PAYLOAD_TOO_LARGE and malformed JSON is 400 VALIDATION, both as JSON', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(LIMITS.httpBodyMaxBytes + 1024), type: 'public' });
    for (const path of ['/api/rooms', '/api/auth/register']) {
      const res = await rawHttp(node.url, 'POST', path, { token: owner.accessToken, body: big });
      expect(res.status).toBe(413);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(res.text)).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
    }
    for (const body of ['{"name": "x", "type": ', '{name: 1}', '{"a":1}}', '\u0000']) {
      const res = await rawHttp(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(JSON.parse(res.text)).toEqual({ error: { code: 'VALIDATION', message: expect.any(String) } });
    }
    const wrongType = await rawHttp(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body: 'name=x', contentType: 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBeGreaterThanOrEqual(400);
    checkHttp('form body', '/api/rooms', wrongType);
  });

  test('NUL characters and lone surrogates in text fields are VALIDATION, never INTERNAL or silently altered', async () => {
    // PostgreSQL text cannot hold U+0000: refused up front, and a neighbour in the same commit batch is unharmed.
    const [nul, neighbour] = await Promise.all([
      socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content: 'a\u0000b' }),
      socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content: 'neighbour' }),
    ]);
    expect(nul).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(neighbour).toMatchObject({ ok: true, message: { content: 'neighbour' } });
    if (neighbour.ok) stored.set(neighbour.message.id, neighbour.message);
    expect(await socket.timeout(10_000).emitWithAck('reaction:add', { messageId: randomUUID(), emoji: '\u0000' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    });
    // A lone surrogate cannot be stored as sent (UTF-8 turns it into U+FFFD): refused rather than altered.
    expect(await socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content: 'x\uD800y' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    });
    const requests: [string, string, unknown][] = [
      ['POST', '/api/rooms', { name: 'nul\u0000room', type: 'public' }],
      ['POST', '/api/auth/register', { username: `nul_${randomUUID().slice(0, 8)}`, password: 'password1', displayName: 'a\u0000b' }],
      ['POST', '/api/auth/login', { username: 'a\u0000b', password: 'password1' }],
      ['GET', `/api/users?query=${encodeURIComponent('a\u0000')}`, undefined],
      ['GET', `/api/rooms/discover?query=${encodeURIComponent('a\u0000')}`, undefined],
      ['GET', `/api/search?q=${encodeURIComponent('a\u0000')}`, undefined],
    ];
    for (const [method, path, body] of requests) {
      const res = await rawHttp(node.url, method, path, { token: owner.accessToken, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      checkHttp(`${method} ${path}`, path, res);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 });
    }
  });

  test('afterwards: nothing but legitimate sends was stored, the node is healthy and a normal send works', async () => {
    expect(payloadsSent).toBeGreaterThanOrEqual(FUZZ_MINIMUM);
    // The whole history, page by page.
    const messages: Message[] = [];
    for (let after = 0; ; ) {
      const page = await http<HistoryResponse>(node.url, 'GET', `/api/rooms/${roomId}/messages?after=${after}&limit=100`, { token: owner.accessToken });
      expect(page.status).toBe(200);
      messages.push(...page.body.messages);
      if (!page.body.hasMore) break;
      after = page.body.messages.at(-1)!.seq;
    }
    const history = { body: { messages } };
    expect(history.body.messages.map((m) => m.id).sort()).toEqual([...stored.keys()].sort());
    for (const m of history.body.messages) expect(m.content).toBe(stored.get(m.id)!.content);
    expect(history.body.messages.map((m) => m.seq)).toEqual(history.body.messages.map((_, i) => i + 1));

    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
    const ready = await http<{ status: string }>(node.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');

    const content = 'still working';
    const ack = await socket.timeout(10_000).emitWithAck('message:send', { id: randomUUID(), roomId, content });
    expect(ack).toMatchObject({ ok: true, message: { roomId, content, seq: history.body.messages.length + 1 } });
  });
});
