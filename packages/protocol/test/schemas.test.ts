import { randomUUID } from 'node:crypto';
import {
  CLIENT_EVENTS,
  CLIENT_EVENT_TABLE,
  ChatError,
  ContentSchema,
  ERROR_STATUS,
  HistoryQuerySchema,
  IdSchema,
  LIMITS,
  PROTOCOL_VERSION,
  RegisterBodySchema,
  SendMessageSchema,
  SyncRequestSchema,
  UsernameSchema,
} from '@chat/protocol';

describe('content', () => {
  test('4000 code points pass, 4001 fail', () => {
    expect(ContentSchema.safeParse('a'.repeat(4000)).success).toBe(true);
    expect(ContentSchema.safeParse('a'.repeat(4001)).success).toBe(false);
  });

  test('counts code points, not UTF-16 units: 4000 emoji pass, 4001 fail', () => {
    expect(ContentSchema.safeParse('😀'.repeat(4000)).success).toBe(true);
    expect(ContentSchema.safeParse('😀'.repeat(4001)).success).toBe(false);
  });

  test('needs one non-whitespace character', () => {
    expect(ContentSchema.safeParse('').success).toBe(false);
    expect(ContentSchema.safeParse(' \n\t ').success).toBe(false);
    expect(ContentSchema.safeParse(' x ').success).toBe(true);
  });

  test('is returned verbatim: not trimmed, not escaped', () => {
    const raw = '  <b>hi</b> & "you"  ';
    expect(ContentSchema.parse(raw)).toBe(raw);
  });
});

describe('message:send', () => {
  const ok = { id: randomUUID(), roomId: 'r1', content: 'hello' };

  test('accepts a UUID id', () => {
    expect(SendMessageSchema.safeParse(ok).success).toBe(true);
  });

  test.each([['not-a-uuid'], [''], [123], [null], ['00000000-0000-0000-0000-00000000000g']])('rejects id %p', (id) => {
    expect(SendMessageSchema.safeParse({ ...ok, id }).success).toBe(false);
  });

  test('rejects a non-UUID replyTo and missing fields', () => {
    expect(SendMessageSchema.safeParse({ ...ok, replyTo: 'x' }).success).toBe(false);
    expect(SendMessageSchema.safeParse({ id: ok.id, roomId: 'r1' }).success).toBe(false);
    expect(SendMessageSchema.safeParse(null).success).toBe(false);
  });
});

describe('ids', () => {
  test('opaque strings: UUIDs and numeric strings pass; empty, too long or odd characters fail', () => {
    expect(IdSchema.safeParse(randomUUID()).success).toBe(true);
    expect(IdSchema.safeParse('12345').success).toBe(true);
    expect(IdSchema.safeParse('').success).toBe(false);
    expect(IdSchema.safeParse('a'.repeat(65)).success).toBe(false);
    expect(IdSchema.safeParse('../etc').success).toBe(false);
    expect(IdSchema.safeParse(12345).success).toBe(false);
  });
});

describe('username', () => {
  test('3 to 32 characters of [a-z0-9_]', () => {
    expect(UsernameSchema.safeParse('ab').success).toBe(false);
    expect(UsernameSchema.safeParse('abc').success).toBe(true);
    expect(UsernameSchema.safeParse('a'.repeat(32)).success).toBe(true);
    expect(UsernameSchema.safeParse('a'.repeat(33)).success).toBe(false);
    expect(UsernameSchema.safeParse('a-b').success).toBe(false);
    expect(UsernameSchema.safeParse('ab c').success).toBe(false);
    expect(UsernameSchema.safeParse('ä_bc').success).toBe(false);
  });

  test('case-insensitive: stored lower-case', () => {
    expect(UsernameSchema.parse('Alice_42')).toBe('alice_42');
  });

  test('password 8 to 128 characters', () => {
    const base = { username: 'alice' };
    expect(RegisterBodySchema.safeParse({ ...base, password: 'x'.repeat(7) }).success).toBe(false);
    expect(RegisterBodySchema.safeParse({ ...base, password: 'x'.repeat(8) }).success).toBe(true);
    expect(RegisterBodySchema.safeParse({ ...base, password: 'x'.repeat(128) }).success).toBe(true);
    expect(RegisterBodySchema.safeParse({ ...base, password: 'x'.repeat(129) }).success).toBe(false);
  });
});

describe('limits above the maximum are capped, not rejected', () => {
  test('history limit', () => {
    expect(HistoryQuerySchema.parse({ limit: '500' }).limit).toBe(100);
    expect(HistoryQuerySchema.parse({}).limit).toBe(50);
    expect(HistoryQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(HistoryQuerySchema.safeParse({ before: '-1' }).success).toBe(false);
    expect(HistoryQuerySchema.parse({ before: '10', after: '2' })).toEqual({ before: 10, after: 2, limit: 50 });
  });

  test('sync limit', () => {
    expect(SyncRequestSchema.parse({ limit: 500 }).limit).toBe(LIMITS.syncMaxLimit);
    expect(SyncRequestSchema.parse({}).limit).toBeUndefined();
  });
});

describe('catalog', () => {
  test('every client event has a schema', () => {
    expect(Object.keys(CLIENT_EVENT_TABLE).sort()).toEqual([...CLIENT_EVENTS].sort());
    for (const event of CLIENT_EVENTS) expect(typeof CLIENT_EVENT_TABLE[event].payload.safeParse).toBe('function');
  });

  test('error codes and statuses match PROTOCOL.md', () => {
    expect(ERROR_STATUS).toEqual({
      VALIDATION: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      RATE_LIMITED: 429,
      UNAVAILABLE: 503,
      INTERNAL: 500,
    });
    expect(PROTOCOL_VERSION).toBe(1);
  });

  test('ChatError serialises to the error object', () => {
    const e = new ChatError('RATE_LIMITED', 'slow down', { retryAfterMs: 799.2 });
    expect(e.status).toBe(429);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 800 });
  });
});
