import type { Member } from '@chat/protocol';
import { insertMention, mentionAt, mentionCandidates } from '../src/chat/mention-complete';

const member = (userId: string, username: string, displayName: string, online = false): Member => ({ userId, username, displayName, role: 'member', online });

describe('@mention completion', () => {
  test('finds the @prefix before the caret, only at a word start', () => {
    expect(mentionAt('hi @al', 6)).toEqual({ start: 3, prefix: 'al' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, prefix: '' });
    expect(mentionAt('mail a@b', 8)).toBeUndefined();
    expect(mentionAt('hi @al there', 12)).toBeUndefined();
    expect(mentionAt('hi @AL there', 6)).toEqual({ start: 3, prefix: 'al' });
  });

  test('candidates by username or display name, online first, never oneself', () => {
    const members = [member('1', 'alice', 'Alice'), member('2', 'albert', 'Bert', true), member('3', 'bob', 'Alfred'), member('me', 'alma', 'Me')];
    expect(mentionCandidates(members, 'al', 'me').map((m) => m.username)).toEqual(['albert', 'alice', 'bob']);
    expect(mentionCandidates(members, 'x', 'me')).toEqual([]);
  });

  test('inserting replaces the prefix and puts the caret after a space', () => {
    expect(insertMention('hi @al, ok', 6, 3, 'alice')).toEqual({ text: 'hi @alice , ok', caret: 10 });
  });
});
