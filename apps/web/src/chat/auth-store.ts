import { HttpApi, Session, type Tokens } from '@chat/client';
import { loadTokens, saveTokens } from './token-store';

/**
 * The session and the authenticated API, plus a signed-in flag React can subscribe to. The session calls
 * back with every new token pair (login, refresh) and with `null` when it ends, including a refresh the
 * server refused, so signing out on expiry needs no extra code.
 */
export class AuthStore {
  readonly session: Session;
  readonly api: HttpApi;
  private signedIn: boolean;
  private signingOut = false;
  private ended: string | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(baseUrl: string, storage: Storage) {
    const anonymous = new HttpApi({ baseUrl });
    const tokens = loadTokens(storage);
    this.signedIn = tokens !== undefined;
    this.session = new Session({
      api: anonymous,
      ...(tokens ? { tokens } : {}),
      onTokens: (next: Tokens | null) => {
        saveTokens(storage, next);
        // Ended, not by this user's "Sign out" on this tab: revoked elsewhere, expired, or the account disabled.
        if (next === null && this.signedIn && !this.signingOut) this.ended = 'Your session has ended (signed out elsewhere, or it expired). Sign in again to continue where you were.';
        if (next !== null) this.ended = undefined;
        this.setSignedIn(next !== null);
      },
      // Tabs share the pair in localStorage: one refresh at a time across them (Web Locks), and a tab that
      // waited takes the pair another tab just stored instead of presenting its rotated-away token.
      ...(typeof navigator !== 'undefined' && navigator.locks
        ? { exclusive: <T>(fn: () => Promise<T>) => navigator.locks.request('chat.refresh', fn) as Promise<T> }
        : {}),
      readStored: () => loadTokens(storage),
    });
    this.api = anonymous.withAuth(this.session);
    // Another tab renewed the pair: use it (this tab's own is rotated away).
    if (typeof window !== 'undefined') {
      window.addEventListener('storage', (event) => {
        if (event.storageArea !== storage) return;
        const stored = loadTokens(storage);
        if (stored) this.session.adopt(stored);
      });
    }
  }

  isSignedIn = (): boolean => this.signedIn;

  /** Why the last session ended, when the user did not end it here; cleared by the next sign-in. */
  endedBecause(): string | undefined {
    return this.ended;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  async signOut(): Promise<void> {
    // The server may be unreachable; the local session ends regardless.
    this.signingOut = true;
    try {
      await this.session.logout().catch(() => undefined);
    } finally {
      this.signingOut = false;
    }
  }

  /** Every session of this user, on every device, this one included. */
  async signOutEverywhere(): Promise<void> {
    await this.api.logoutEverywhere();
    await this.signOut();
  }

  /** A new password; every other session is signed out by the server. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.api.changePassword({ currentPassword, newPassword });
  }

  private setSignedIn(value: boolean): void {
    if (value === this.signedIn) return;
    this.signedIn = value;
    for (const listener of this.listeners) listener();
  }
}
