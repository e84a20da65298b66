export interface HighlightPart {
  text: string;
  hit: boolean;
}

/**
 * The server's search highlight (`<<word>>` around each hit) as parts to render as text and <mark>: never
 * as HTML, so a message's own `<` characters stay text.
 */
export function highlightParts(highlight: string): HighlightPart[] {
  const parts: HighlightPart[] = [];
  const re = /<<(.*?)>>/gs;
  let at = 0;
  for (const m of highlight.matchAll(re)) {
    if (m.index > at) parts.push({ text: highlight.slice(at, m.index), hit: false });
    if (m[1]) parts.push({ text: m[1], hit: true });
    at = m.index + m[0].length;
  }
  if (at < highlight.length) parts.push({ text: highlight.slice(at), hit: false });
  return parts;
}
