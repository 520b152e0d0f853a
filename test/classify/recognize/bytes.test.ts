import { describe, expect, it } from 'vitest';
import { latin1 } from '../../../src/classify/recognize/bytes.js';

describe('latin1', () => {
  it('one char per byte at every length, across the one-call chunk size, from any offset', () => {
    const bytes = new Uint8Array(10_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
    const expected = (s: number, e: number) => Array.from(bytes.subarray(s, e), (b) => String.fromCharCode(b)).join('');
    for (const [s, e] of [[0, 0], [5, 6], [3, 15], [1, 13], [1, 14], [100, 4196], [7, 4104], [0, 10_000], [9_999, 10_000]] as const) {
      expect(latin1(bytes, s, e)).toBe(expected(s, e));
    }
  });
});
