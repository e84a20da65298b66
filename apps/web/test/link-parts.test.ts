import { linkParts, safeHref } from '../src/chat/link-parts';

describe('links in message text', () => {
  test('http(s) and www. addresses become links; the rest stays text, verbatim', () => {
    expect(linkParts('see https://example.org/a?b=1#c and www.example.com/x, ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1#c', href: 'https://example.org/a?b=1#c' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'www.example.com/x', href: 'https://www.example.com/x' },
      { kind: 'text', text: ', ok' },
    ]);
    expect(linkParts('<b>not html</b>')).toEqual([{ kind: 'text', text: '<b>not html</b>' }]);
    expect(linkParts('')).toEqual([]);
  });

  test('no script, data or other schemes, however they are spelled', () => {
    for (const evil of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd']) {
      expect(linkParts(evil).filter((p) => p.kind === 'link')).toEqual([]);
      expect(safeHref(evil)).toBeUndefined();
    }
    // A javascript: URL inside a link's query is just part of an https URL.
    expect(linkParts('https://x.org/?next=javascript:alert(1)')[0]).toMatchObject({ kind: 'link', href: 'https://x.org/?next=javascript:alert(1)' });
  });

  test('sentence punctuation after a link is not part of it, but balanced parentheses are', () => {
    expect(linkParts('Look: https://example.org/a.')).toEqual([
      { kind: 'text', text: 'Look: ' },
      { kind: 'link', text: 'https://example.org/a', href: 'https://example.org/a' },
      { kind: 'text', text: '.' },
    ]);
    expect(linkParts('(see https://example.org/b)')[1]).toMatchObject({ text: 'https://example.org/b' });
    expect(linkParts('https://en.wikipedia.org/wiki/Foo_(bar)')[0]).toMatchObject({ text: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
  });
});
