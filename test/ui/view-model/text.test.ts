/** Table cells: hostile strings (escapes, control, wide characters) cannot break a frame. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clip, fit, fitMiddle, fitRight, safeText, wrap } from '../../../src/ui/view-model/text.js';

describe('safeText', () => {
  it('replaces control characters and escape sequences (an SNI cannot drive the terminal)', () => {
    expect(safeText('evil\x1b[2J\x1b]0;title\x07.com')).toBe('evil?[2J?]0;title?.com');
    expect(safeText('a\r\nb\tc\x7f\x9b')).toBe('a??b?c??');
  });

  it('replaces wide and zero-width characters, keeps one-cell ones', () => {
    expect(safeText('日本')).toBe('??');
    expect(safeText('e\u0301')).toBe('e?');
    expect(safeText('😀')).toBe('?');
    expect(safeText('café — ✓ ✗ → ▁█')).toBe('café — ✓ ✗ → ▁█');
  });

  it('cuts very long input first', () => {
    expect(safeText('x'.repeat(100_000)).length).toBe(512);
  });
});

describe('fit helpers', () => {
  it('give exactly the width asked for', () => {
    expect(fit('database endpoints', 8)).toBe('databas…');
    expect(fit('db', 5)).toBe('db   ');
    expect(fitRight('12', 5)).toBe('   12');
    expect(fitMiddle('2001:db8::1234:5678', 9)).toBe('2001…5678');
    expect(fit('abc', 0)).toBe('');
    expect(fit('abc', -3)).toBe('');
    expect(fit('abc', 1)).toBe('…');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('ab', 4)).toBe('ab');
  });

  it('property: any string fits any width exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 0, max: 120 }), (s, w) => {
        expect(fit(s, w)).toHaveLength(w);
        expect(fitRight(s, w)).toHaveLength(w);
        expect(fitMiddle(s, w)).toHaveLength(w);
        expect(clip(s, w).length).toBeLessThanOrEqual(w);
        expect(fit(s, w)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
      }),
    );
  });
});

describe('wrap', () => {
  it('wraps words to the width and marks a cut', () => {
    expect(wrap('the quick brown fox jumps', 10)).toEqual(['the quick', 'brown fox', 'jumps']);
    expect(wrap('the quick brown fox jumps', 10, 2)).toEqual(['the quick', 'brown fox…']);
    expect(wrap('', 10)).toEqual([]);
    expect(wrap('averyveryverylongword x', 6)).toEqual(['avery…', 'x']);
  });
});
