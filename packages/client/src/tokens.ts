/** The pair a login, register or refresh returns. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/**
 * Where HTTP calls and the socket get their access token. `Session` is the implementation; tests and load
 * tools may pass a fixed token.
 */
export interface TokenProvider {
  getAccessToken(): string | undefined;
  /**
   * Obtain a fresh access token after `staleAccessToken` was refused. Resolves once a new token is
   * available; rejects (with `UNAUTHORIZED`) when the session cannot be renewed.
   */
  refresh(staleAccessToken?: string): Promise<unknown>;
}

/** A provider for a token that never changes (bots, load tools): a refusal is final. */
export function staticToken(accessToken: string): TokenProvider {
  return {
    getAccessToken: () => accessToken,
    refresh: () => Promise.reject(new Error('static token cannot be refreshed')),
  };
}
