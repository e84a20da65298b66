import { ChatError, type AuthResponse, type LoginBody, type RegisterBody, type TokensResponse } from '@chat/protocol';
import type { TokenProvider, Tokens } from './tokens';

/** The account routes a session needs; `HttpApi` satisfies it. */
export interface AuthApi {
  register(body: RegisterBody): Promise<AuthResponse>;
  login(body: LoginBody): Promise<AuthResponse>;
  refresh(refreshToken: string): Promise<TokensResponse>;
  logout(refreshToken: string): Promise<void>;
}

export interface SessionOptions {
  api: AuthApi;
  /** Tokens restored from storage (e.g. localStorage), if any. */
  tokens?: Tokens;
  /** Called with every new pair so the app can persist it, and with `null` when the session ends. */
  onTokens?: (tokens: Tokens | null) => void;
}

/**
 * Holds the access/refresh pair and renews it.
 *
 * Refresh tokens are single-use and the server revokes the whole session when a rotated one is presented
 * again, with no grace period. So at most one refresh may be in flight: concurrent callers share its promise,
 * and a caller whose refused token was already replaced does not refresh again.
 */
export class Session implements TokenProvider {
  private tokens: Tokens | undefined;
  private inFlight: Promise<Tokens> | undefined;
  private readonly api: AuthApi;
  private readonly onTokens: ((tokens: Tokens | null) => void) | undefined;

  constructor(opts: SessionOptions) {
    this.api = opts.api;
    this.tokens = opts.tokens;
    this.onTokens = opts.onTokens;
  }

  getAccessToken(): string | undefined {
    return this.tokens?.accessToken;
  }

  getTokens(): Tokens | undefined {
    return this.tokens;
  }

  async register(body: RegisterBody): Promise<AuthResponse> {
    const res = await this.api.register(body);
    this.set({ accessToken: res.accessToken, refreshToken: res.refreshToken });
    return res;
  }

  async login(body: LoginBody): Promise<AuthResponse> {
    const res = await this.api.login(body);
    this.set({ accessToken: res.accessToken, refreshToken: res.refreshToken });
    return res;
  }

  /**
   * Renews the pair. `staleAccessToken` is the token a request was refused with: if it has been replaced
   * meanwhile, the new one is returned without another refresh.
   */
  refresh(staleAccessToken?: string): Promise<Tokens> {
    if (this.inFlight) return this.inFlight;
    const current = this.tokens;
    if (!current) return Promise.reject(new ChatError('UNAUTHORIZED', 'not logged in'));
    if (staleAccessToken !== undefined && staleAccessToken !== current.accessToken) return Promise.resolve(current);

    this.inFlight = this.api
      .refresh(current.refreshToken)
      .then(
        (res) => {
          const next = { accessToken: res.accessToken, refreshToken: res.refreshToken };
          this.set(next);
          return next;
        },
        (err: unknown) => {
          // A refused refresh token means the session is gone (expired, logged out, reuse detected);
          // a network failure leaves it intact for the next attempt.
          if (err instanceof ChatError && err.code === 'UNAUTHORIZED') this.set(undefined);
          throw err;
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Ends the session on the server (its sockets are disconnected there) and forgets the tokens. */
  async logout(): Promise<void> {
    // Let a running refresh settle first, so the refresh token we revoke is the live one.
    await this.inFlight?.catch(() => undefined);
    const current = this.tokens;
    this.set(undefined);
    if (current) await this.api.logout(current.refreshToken);
  }

  private set(tokens: Tokens | undefined): void {
    this.tokens = tokens;
    this.onTokens?.(tokens ?? null);
  }
}
