import { signUpProblems } from '../src/chat/sign-up-check';

describe('sign-up form check', () => {
  test('every problem at once, by field, in plain words', () => {
    expect(signUpProblems({ username: 'Al ice!', password: 'short', displayName: 'x'.repeat(65) })).toEqual({
      username: 'Use only letters a–z, digits and _ (no spaces or other characters).',
      password: 'Use at least 8 characters (3 more).',
      displayName: 'Keep it to 64 characters or fewer.',
    });
    expect(signUpProblems({ username: '', password: '', displayName: '' })).toEqual({
      username: 'Choose a username.',
      password: 'Use at least 8 characters (8 more).',
    });
    expect(signUpProblems({ username: 'ab', password: 'x'.repeat(129), displayName: '' })).toEqual({
      username: 'Make it at least 3 characters long.',
      password: 'Use at most 128 characters.',
    });
  });

  test('what the server accepts passes: upper case is lower-cased, the display name is optional', () => {
    expect(signUpProblems({ username: 'Alice_1', password: '12345678', displayName: '' })).toEqual({});
    expect(signUpProblems({ username: 'a'.repeat(32), password: 'x'.repeat(128), displayName: ' Alice  Smith ' })).toEqual({});
    expect(signUpProblems({ username: 'a'.repeat(33), password: '12345678', displayName: '' }).username).toBe('Make it at most 32 characters long.');
  });
});
