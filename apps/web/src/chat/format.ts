import { linkParts } from './link-parts';

/**
 * Light formatting of message text, as data the UI renders with React elements (never as HTML): code blocks
 * between ``` fences, quotes (lines starting with "> "), and inside lines `inline code`, **bold**, *italic*
 * or _italic_, http(s) links and @mentions. Hand-written because what a chat needs is this small, fixed
 * subset: the Markdown renderers (react-markdown and its ~30 ES-module packages) implement all of CommonMark
 * (headings, lists, images, raw HTML) and would need as much configuration to switch that off again.
 */
export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'bold'; children: Inline[] }
  | { kind: 'italic'; children: Inline[] }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; username: string; text: string };

export type Block = { kind: 'paragraph'; lines: Inline[][] } | { kind: 'quote'; lines: Inline[][] } | { kind: 'code'; text: string };

const FENCE = /^\s*```/u;
const MENTION = /(^|[^\w@])@([a-z0-9_]{3,32})(?![\w])/giu;

export function formatBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE.test(line)) {
      const end = lines.findIndex((l, j) => j > i && FENCE.test(l));
      // An unclosed fence is just text.
      if (end !== -1) {
        const first = line.replace(FENCE, '').trim();
        // ```js → a language word is dropped; text on the fence line otherwise belongs to the code.
        const body = [...(first && !/^\w+$/u.test(first) ? [first] : []), ...lines.slice(i + 1, end)];
        blocks.push({ kind: 'code', text: body.join('\n') });
        i = end;
        continue;
      }
    }
    const kind = line.startsWith('>') ? 'quote' : 'paragraph';
    const content = kind === 'quote' ? line.replace(/^> ?/u, '') : line;
    const last = blocks.at(-1);
    if (last && last.kind === kind) last.lines.push(inline(content));
    else blocks.push({ kind, lines: [inline(content)] });
  }
  return blocks;
}

/** One line: code spans first (nothing inside them is formatted), then bold, italic, links and mentions. */
export function inline(text: string): Inline[] {
  const out: Inline[] = [];
  const re = /`([^`\n]+)`/gu;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(...emphasis(text.slice(at, m.index)));
    out.push({ kind: 'code', text: m[1]! });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(...emphasis(text.slice(at)));
  return out;
}

function emphasis(text: string): Inline[] {
  const bold = /\*\*(?=\S)([^*]*?\S)\*\*/u.exec(text);
  const italic = /(?:^|(?<=[\s(]))([*_])(?=\S)([^*_]*?\S)\1(?=$|[\s.,;:!?)])/u.exec(text);
  const first = [bold, italic].filter((m): m is RegExpExecArray => m !== null).sort((a, b) => a.index - b.index)[0];
  if (!first) return plain(text);
  const inner = first === bold ? first[1]! : first[2]!;
  return [
    ...plain(text.slice(0, first.index)),
    { kind: first === bold ? 'bold' : 'italic', children: emphasis(inner) },
    ...emphasis(text.slice(first.index + first[0].length)),
  ];
}

function plain(text: string): Inline[] {
  if (!text) return [];
  const out: Inline[] = [];
  for (const part of linkParts(text)) {
    if (part.kind === 'link') {
      out.push(part);
      continue;
    }
    let at = 0;
    for (const m of part.text.matchAll(MENTION)) {
      const start = m.index + m[1]!.length;
      if (start > at) out.push({ kind: 'text', text: part.text.slice(at, start) });
      out.push({ kind: 'mention', username: m[2]!.toLowerCase(), text: `@${m[2]}` });
      at = start + 1 + m[2]!.length;
    }
    if (at < part.text.length) out.push({ kind: 'text', text: part.text.slice(at) });
  }
  return out;
}

/** Whether the text mentions `username` (outside code). */
export function mentions(text: string, username: string): boolean {
  const name = username.toLowerCase();
  const visit = (parts: Inline[]): boolean =>
    parts.some((p) => (p.kind === 'mention' ? p.username === name : p.kind === 'bold' || p.kind === 'italic' ? visit(p.children) : false));
  return formatBlocks(text).some((b) => b.kind !== 'code' && b.lines.some(visit));
}
