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
        this.setSignedIn(next !== null);
      },
    });
    this.api = anonymous.withAuth(this.session);
  }

  isSignedIn = (): boolean => this.signedIn;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  async signOut(): Promise<void> {
    // The server may be unreachable; the local session ends regardless.
    await this.session.logout().catch(() => undefined);
  }

  private setSignedIn(value: boolean): void {
    if (value === this.signedIn) return;
    this.signedIn = value;
    for (const listener of this.listeners) listener();
  }
}
