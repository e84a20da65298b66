import type { Tokens } from '@chat/client';

const KEY = 'chat.tokens';

/** The session's token pair in localStorage, so a reload stays signed in. */
export function loadTokens(storage: Storage): Tokens | undefined {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as Partial<Tokens>;
    if (typeof value.accessToken !== 'string' || typeof value.refreshToken !== 'string') return undefined;
    return { accessToken: value.accessToken, refreshToken: value.refreshToken };
  } catch {
    return undefined;
  }
}

export function saveTokens(storage: Storage, tokens: Tokens | null): void {
  if (tokens) storage.setItem(KEY, JSON.stringify(tokens));
  else storage.removeItem(KEY);
}
