/**
 * Text the database cannot store as sent: PostgreSQL text holds neither U+0000 (an insert or comparison
 * with it fails inside the database, and in a group-commit batch it would fail every message of the batch)
 * nor lone UTF-16 surrogates (the driver's UTF-8 encoding silently turns them into U+FFFD, so what is
 * stored would differ from what was acknowledged). Such input is malformed and is refused as VALIDATION
 * before it reaches a query. Returns the path of the first offending string (or key), or undefined.
 */
export function findUnstorableText(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value === 'string') return isStorable(value) ? undefined : path;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!isStorable(key)) return [...path, key];
    const found = findUnstorableText(child, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

// With the `u` flag a surrogate pair is one code point, so this matches only lone surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function isStorable(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}
