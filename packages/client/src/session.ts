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
  /**
   * Where several holders share one stored pair (browser tabs on one localStorage): runs a refresh
   * exclusively among them (the web app passes a Web Lock), and `readStored` reads the pair as stored now.
   * Inside the lock a holder whose stored pair was already renewed by another takes it instead of
   * presenting its own, rotated-away, refresh token.
   */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
  readStored?: () => Tokens | undefined;
}

/**
 * Holds the access/refresh pair and renews it.
 *
 * Refresh tokens are single-use: the server answers a token rotated away in the last 30 s with the current
 * pair, and revokes the whole session when an older one is presented. So at most one refresh may be in
 * flight: concurrent callers share its promise, a caller whose refused token was already replaced does not
 * refresh again, and holders sharing one stored pair refresh one at a time (`exclusive`, `readStored`).
 */
export class Session implements TokenProvider {
  private tokens: Tokens | undefined;
  private inFlight: Promise<Tokens> | undefined;
  private readonly api: AuthApi;
  private readonly onTokens: ((tokens: Tokens | null) => void) | undefined;
  private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly readStored: () => Tokens | undefined;

  constructor(opts: SessionOptions) {
    this.api = opts.api;
    this.tokens = opts.tokens;
    this.onTokens = opts.onTokens;
    this.exclusive = opts.exclusive ?? ((fn) => fn());
    this.readStored = opts.readStored ?? (() => undefined);
  }

  /** A pair another holder stored (e.g. another tab refreshed): used from now on, not stored again. */
  adopt(tokens: Tokens): void {
    this.tokens = tokens;
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

    this.inFlight = this.exclusive(async () => {
      // Another holder may have renewed the stored pair while this one waited for the lock.
      const stored = this.readStored();
      if (stored && stored.refreshToken !== current.refreshToken) return stored;
      return this.api.refresh(current.refreshToken);
    })
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
