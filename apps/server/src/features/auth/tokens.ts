import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ChatError } from '@chat/protocol';
import { createSigner, createVerifier } from 'fast-jwt';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  username: string;
  displayName: string;
}

/**
 * Short-lived JWT access tokens (HS256) and opaque refresh tokens.
 *
 * A refresh token is `<sessionId>.<generation>.<mac>` where mac = HMAC(secret, session and generation). The
 * server can thus tell, without storing old tokens, whether a presented token is an authentic but already
 * rotated one (generation below the session's): that is reuse, and it revokes the whole session family.
 * A token with a wrong mac is merely invalid and revokes nothing, so guessing cannot log anyone out.
 */
export class Tokens {
  private readonly sign: (payload: Record<string, unknown>) => string;
  private readonly verify: (token: string) => Record<string, unknown>;

  constructor(
    private readonly secret: string,
    accessTtlSeconds: number,
  ) {
    this.sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: accessTtlSeconds * 1000 });
    this.verify = createVerifier({ key: secret, algorithms: ['HS256'], cache: 1000 });
  }

  issueAccess(claims: AccessClaims): string {
    return this.sign({ sub: claims.userId, sid: claims.sessionId, usr: claims.username, dn: claims.displayName });
  }

  /** Throws UNAUTHORIZED for a missing, malformed, forged or expired token. */
  verifyAccess(token: string | undefined): AccessClaims {
    if (!token) throw new ChatError('UNAUTHORIZED', 'missing access token');
    try {
      const p = this.verify(token);
      if (typeof p.sub !== 'string' || typeof p.sid !== 'string' || typeof p.usr !== 'string' || typeof p.dn !== 'string') {
        throw new Error('claims');
      }
      return { userId: p.sub, sessionId: p.sid, username: p.usr, displayName: p.dn };
    } catch {
      throw new ChatError('UNAUTHORIZED', 'invalid or expired access token');
    }
  }

  newSessionId(): string {
    return randomUUID();
  }

  issueRefresh(sessionId: string, generation: number): string {
    return `${sessionId}.${generation}.${this.mac(sessionId, generation)}`;
  }

  /** Returns the session and generation of an authentic refresh token, or undefined. */
  parseRefresh(token: string): { sessionId: string; generation: number } | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [sessionId, gen, mac] = parts as [string, string, string];
    if (!/^\d{1,9}$/.test(gen)) return undefined;
    const generation = Number(gen);
    const expected = Buffer.from(this.mac(sessionId, generation));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return { sessionId, generation };
  }

  static fingerprint(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  private mac(sessionId: string, generation: number): string {
    return createHmac('sha256', this.secret).update(`refresh:${sessionId}:${generation}`).digest('base64url');
  }
}
