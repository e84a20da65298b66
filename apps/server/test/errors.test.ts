import { ChatError } from '@chat/protocol';
import pino from 'pino';
import { toErrorObject } from '../src/errors';

const log = pino({ level: 'silent' });

test('a database pool timeout is UNAVAILABLE with a retry hint, not INTERNAL', () => {
  const out = toErrorObject(new Error('timeout exceeded when trying to connect'), log);
  expect(out.code).toBe('UNAVAILABLE');
  expect(out.retryAfterMs).toBeGreaterThanOrEqual(500);
  expect(out.retryAfterMs).toBeLessThan(2000);
});

test('an unexpected error is INTERNAL without details', () => {
  const out = toErrorObject(new Error('relation "secret_table" does not exist'), log);
  expect(out).toEqual({ code: 'INTERNAL', message: 'internal error' });
});

test('a ChatError passes through', () => {
  expect(toErrorObject(new ChatError('NOT_FOUND', 'no such room'), log)).toEqual({ code: 'NOT_FOUND', message: 'no such room' });
});
