import { highlightParts } from '../src/chat/highlight';

describe('search highlight', () => {
  test('hits between << and >> become marked parts; the rest stays text, HTML included', () => {
    expect(highlightParts('the <<plan>> for <b>monday</b>: <<plan>> B')).toEqual([
      { text: 'the ', hit: false },
      { text: 'plan', hit: true },
      { text: ' for <b>monday</b>: ', hit: false },
      { text: 'plan', hit: true },
      { text: ' B', hit: false },
    ]);
    expect(highlightParts('no hits')).toEqual([{ text: 'no hits', hit: false }]);
    expect(highlightParts('<<all>>')).toEqual([{ text: 'all', hit: true }]);
  });
});
