import { LIMITS, normaliseDisplayName } from '@chat/protocol';

export interface SignUpFields {
  username: string;
  password: string;
  displayName: string;
}

export type SignUpProblems = Partial<Record<keyof SignUpFields, string>>;

/**
 * Every problem with a sign-up form at once, in plain words, by field; the same rules the server applies
 * (packages/protocol's schemas), so what passes here is refused only for reasons the browser cannot know
 * (a name already taken).
 */
export function signUpProblems(f: SignUpFields): SignUpProblems {
  const problems: SignUpProblems = {};
  const username = f.username.trim().toLowerCase();
  if (username.length === 0) problems.username = 'Choose a username.';
  else if (!/^[a-z0-9_]+$/.test(username)) problems.username = 'Use only letters a–z, digits and _ (no spaces or other characters).';
  else if (username.length < LIMITS.usernameMin) problems.username = `Make it at least ${LIMITS.usernameMin} characters long.`;
  else if (username.length > LIMITS.usernameMax) problems.username = `Make it at most ${LIMITS.usernameMax} characters long.`;
  if (f.password.length < LIMITS.passwordMin) problems.password = `Use at least ${LIMITS.passwordMin} characters (${LIMITS.passwordMin - f.password.length} more).`;
  else if (f.password.length > LIMITS.passwordMax) problems.password = `Use at most ${LIMITS.passwordMax} characters.`;
  if (f.displayName.trim() !== '' && normaliseDisplayName(f.displayName).length > LIMITS.displayNameMax) {
    problems.displayName = `Keep it to ${LIMITS.displayNameMax} characters or fewer.`;
  }
  return problems;
}
