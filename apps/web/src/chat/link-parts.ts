/** A run of message text: plain, or a link with an href that is safe to put in an `<a>`. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// Only what starts like a web address becomes a link: `javascript:`, `data:` and friends stay plain text.
const URL_LIKE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?'")\]}>]+$/u;
const SAFE_PROTOCOLS = new Set(['http:', 'https:']);

/** The href for a URL-looking run, or undefined if it is not a well-formed http(s) URL. */
export function safeHref(raw: string): string | undefined {
  const candidate = /^www\./iu.test(raw) ? `https://${raw}` : raw;
  try {
    const url = new URL(candidate);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Splits text into plain runs and http(s) links; rendered as React text and `<a>` nodes, never as HTML. */
export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_LIKE)) {
    let raw = match[0];
    // "(see https://x.org/a)." — closing punctuation belongs to the sentence, unless the URL opened it.
    const trail = TRAILING.exec(raw)?.[0] ?? '';
    let keep = trail.length;
    if (trail.startsWith(')') && raw.includes('(')) keep = trail.length - 1;
    if (keep > 0 && keep <= trail.length) raw = raw.slice(0, raw.length - keep);
    const href = safeHref(raw);
    const start = match.index;
    if (!href) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}
