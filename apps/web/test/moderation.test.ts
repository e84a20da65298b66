import type { AuditEntry } from '@chat/protocol';
import { auditSentence, isTimedOut, outranks } from '../src/chat/moderation';

const entry = (e: Partial<AuditEntry> & Pick<AuditEntry, 'action'>): AuditEntry => ({
  id: '1',
  roomId: 'r',
  actorId: 'a',
  actorName: 'Olivia',
  targetUserId: 't',
  targetName: 'Mark',
  createdAt: '2026-12-03T00:00:00.000Z',
  ...e,
});

describe('moderation in the web app', () => {
  test('only a strictly higher role acts on another member', () => {
    expect(outranks('owner', 'admin')).toBe(true);
    expect(outranks('admin', 'member')).toBe(true);
    expect(outranks('admin', 'admin')).toBe(false);
    expect(outranks('member', 'member')).toBe(false);
    expect(outranks(undefined, 'member')).toBe(false);
  });

  test('a timeout counts until it ends', () => {
    const now = Date.parse('2026-12-03T10:00:00.000Z');
    expect(isTimedOut({ timedOutUntil: '2026-12-03T10:00:01.000Z' }, now)).toBe(true);
    expect(isTimedOut({ timedOutUntil: '2026-12-03T10:00:00.000Z' }, now)).toBe(false);
    expect(isTimedOut({}, now)).toBe(false);
  });

  test('audit entries in words', () => {
    expect(auditSentence(entry({ action: 'member.ban', details: { reason: 'spam', removed: true } }))).toBe('Olivia banned Mark (spam)');
    expect(auditSentence(entry({ action: 'member.timeout', details: { seconds: 600, until: 'x', reason: 'calm' } }))).toBe('Olivia timed out Mark for 10 minutes (calm)');
    const roomChange = (details: Record<string, unknown>) => auditSentence(entry({ action: 'room.update', details }));
    expect(roomChange({ fromName: 'a', toName: 'Lounge', fromTopic: null, toTopic: 'tea' })).toBe('Olivia renamed the room to “Lounge” and set the topic to “tea”');
    expect(roomChange({ fromTopic: 'tea', toTopic: null })).toBe('Olivia cleared the topic');
    expect(auditSentence(entry({ action: 'member.timeout', details: { seconds: 90 } }))).toBe('Olivia timed out Mark for 90 seconds');
    expect(auditSentence(entry({ action: 'member.role', details: { from: 'member', to: 'admin' } }))).toBe('Olivia changed the role of Mark to admin');
    expect(auditSentence(entry({ action: 'join_request.approve' }))).toBe('Olivia let in Mark');
    const { actorName: _gone, ...withoutActor } = entry({ action: 'member.kick' });
    expect(auditSentence(withoutActor)).toBe('a deleted user removed Mark');
  });
});
