import { LIMITS } from '@chat/protocol';
import { FileLinks } from '../src/features/files/file-links';

describe('file links', () => {
  const links = new FileLinks('a-secret-that-is-long-enough-for-the-test');
  const fileId = '5b0f7c3e-3a51-4a53-9d3c-0f4f7a1c2b9e';
  const parse = (url: string) => {
    const q = new URL(url, 'http://x').searchParams;
    return { expires: Number(q.get('expires')), signature: q.get('signature')! };
  };

  test('a link is good for LIMITS.fileLinkSeconds, for its file only, with its own signature only', () => {
    const now = Date.UTC(2026, 11, 4, 3, 0, 0);
    const { url, expiresAt } = links.create(fileId, now);
    const { expires, signature } = parse(url);
    expect(expiresAt).toBe(new Date(now + LIMITS.fileLinkSeconds * 1000).toISOString());
    expect(links.verify(fileId, expires, signature, now)).toBe(LIMITS.fileLinkSeconds);
    expect(links.verify(fileId, expires, signature, now + (LIMITS.fileLinkSeconds - 1) * 1000)).toBe(1);
    expect(links.verify(fileId, expires, signature, now + LIMITS.fileLinkSeconds * 1000)).toBeUndefined();
    expect(links.verify('6b0f7c3e-3a51-4a53-9d3c-0f4f7a1c2b9e', expires, signature, now)).toBeUndefined();
    // A later expiry under the same signature, or a link from a node with another secret: refused.
    expect(links.verify(fileId, expires + 1, signature, now)).toBeUndefined();
    expect(new FileLinks('another-secret-that-is-long-enough-too').verify(fileId, expires, signature, now)).toBeUndefined();
    // An expiry further out than any link is given: refused even with a matching signature.
    const far = new FileLinks('a-secret-that-is-long-enough-for-the-test').create(fileId, now + 3_600_000);
    expect(links.verify(fileId, parse(far.url).expires, parse(far.url).signature, now)).toBeUndefined();
  });
});
