import { formatBlocks, inline, mentions } from '../src/chat/format';

describe('message formatting', () => {
  test('bold, italic, inline code, links and mentions inside a line', () => {
    expect(inline('a **bold** and *it* or _it_ with `x **y**` see https://example.org/a, hi @Alice_1!')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'bold', children: [{ kind: 'text', text: 'bold' }] },
      { kind: 'text', text: ' and ' },
      { kind: 'italic', children: [{ kind: 'text', text: 'it' }] },
      { kind: 'text', text: ' or ' },
      { kind: 'italic', children: [{ kind: 'text', text: 'it' }] },
      { kind: 'text', text: ' with ' },
      { kind: 'code', text: 'x **y**' },
      { kind: 'text', text: ' see ' },
      { kind: 'link', text: 'https://example.org/a', href: 'https://example.org/a' },
      { kind: 'text', text: ', hi ' },
      { kind: 'mention', username: 'alice_1', text: '@Alice_1' },
      { kind: 'text', text: '!' },
    ]);
  });

  test('what is not formatting stays text: snake_case, 2*3*4, lone stars, e-mail addresses, HTML', () => {
    expect(inline('my_var_name 2*3*4 * not * a@bcd.org <b>x</b>')).toEqual([{ kind: 'text', text: 'my_var_name 2*3*4 * not * a@bcd.org <b>x</b>' }]);
  });

  test('code blocks, quotes and paragraphs, newlines kept', () => {
    expect(formatBlocks('> quoted **bold**\n> more\nplain\n```js\nconst a = 1; // *no*\n```\nafter')).toEqual([
      { kind: 'quote', lines: [[{ kind: 'text', text: 'quoted ' }, { kind: 'bold', children: [{ kind: 'text', text: 'bold' }] }], [{ kind: 'text', text: 'more' }]] },
      { kind: 'paragraph', lines: [[{ kind: 'text', text: 'plain' }]] },
      { kind: 'code', text: 'const a = 1; // *no*' },
      { kind: 'paragraph', lines: [[{ kind: 'text', text: 'after' }]] },
    ]);
    // An unclosed fence is text.
    expect(formatBlocks('```\nnot closed')).toEqual([{ kind: 'paragraph', lines: [[{ kind: 'text', text: '```' }], [{ kind: 'text', text: 'not closed' }]] }]);
  });

  test('mentions of a user, case-insensitive, not inside code', () => {
    expect(mentions('hey @Bob, look', 'bob')).toBe(true);
    expect(mentions('**@bob** look', 'bob')).toBe(true);
    expect(mentions('`@bob` is a handle', 'bob')).toBe(false);
    expect(mentions('```\n@bob\n```', 'bob')).toBe(false);
    expect(mentions('@bobby', 'bob')).toBe(false);
    expect(mentions('mail bob@bob.org', 'bob')).toBe(false);
  });
});
