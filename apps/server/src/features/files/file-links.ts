import { createHmac, timingSafeEqual } from 'node:crypto';
import { HTTP_ROUTES, LIMITS, routePath } from '@chat/protocol';

/**
 * Short-lived file addresses that need no token: `<img src>` and a download link cannot send an
 * Authorization header. The signature (HMAC-SHA-256 over the file id and expiry, with a key derived from
 * the nodes' shared JWT secret) is the proof that a member asked for it in the last LIMITS.fileLinkSeconds.
 */
export class FileLinks {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('chat file links v1').digest();
  }

  create(fileId: string, now = Date.now()): { url: string; expiresAt: string } {
    const expires = Math.floor(now / 1000) + LIMITS.fileLinkSeconds;
    const query = new URLSearchParams({ expires: String(expires), signature: this.sign(fileId, expires) });
    return { url: `${routePath(HTTP_ROUTES.fileContent, { fileId })}?${query}`, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Seconds the link has left, or undefined when its signature is wrong or it expired. */
  verify(fileId: string, expires: number, signature: string, now = Date.now()): number | undefined {
    const left = expires - Math.floor(now / 1000);
    if (left <= 0 || left > LIMITS.fileLinkSeconds) return undefined;
    const expected = Buffer.from(this.sign(fileId, expires));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected) ? left : undefined;
  }

  private sign(fileId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${fileId}.${expires}`).digest('base64url');
  }
}
