import { verdictOf } from '../src/report';

// A ramp that met its top step knows its highest rate only from below; a ratio over it is a bound, and a bound
// on the wrong side of the goal must not be reported as meeting (or missing) it.
describe('verdictOf', () => {
  it('judges exact ratios against the goal', () => {
    expect(verdictOf(0.75, { value: 0.7 })).toBe('met');
    expect(verdictOf(0.6, { value: 0.7 })).toBe('NOT met');
    expect(verdictOf(1.2, { value: 1.3, direction: 'max' })).toBe('met');
    expect(verdictOf(1.4, { value: 1.3, direction: 'max' })).toBe('NOT met');
  });

  it('shows a minimum goal met only by a lower bound, and missed only by an upper bound', () => {
    expect(verdictOf(0.75, { value: 0.7 }, 'upper')).toBe('not shown (an upper bound)');
    expect(verdictOf(0.6, { value: 0.7 }, 'upper')).toBe('NOT met');
    expect(verdictOf(0.75, { value: 0.7 }, 'lower')).toBe('met');
    expect(verdictOf(0.6, { value: 0.7 }, 'lower')).toBe('not shown (a lower bound)');
  });

  it('shows a maximum goal met only by an upper bound', () => {
    expect(verdictOf(1.2, { value: 1.3, direction: 'max' }, 'upper')).toBe('met');
    expect(verdictOf(1.2, { value: 1.3, direction: 'max' }, 'lower')).toBe('not shown (a lower bound)');
    expect(verdictOf(1.4, { value: 1.3, direction: 'max' }, 'lower')).toBe('NOT met');
  });
});
