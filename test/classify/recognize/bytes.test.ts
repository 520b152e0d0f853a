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

  it('reads only the view it is given: a subarray of larger memory, ends past its length clamped', () => {
    const memory = new Uint8Array(256);
    for (let i = 0; i < memory.length; i++) memory[i] = i;
    const view = memory.subarray(100, 140);
    const chars = (from: number, to: number) => Array.from(memory.subarray(from, to), (b) => String.fromCharCode(b)).join('');
    expect(latin1(view, 0, 40)).toBe(chars(100, 140));
    expect(latin1(view, 5, 30)).toBe(chars(105, 130));
    expect(latin1(view, 20, 400)).toBe(chars(120, 140));
    expect(latin1(view, 30, 20)).toBe('');
    // Views of other memory in turn (the reader's chunks, the reassembly pool, scratch buffers).
    const other = Uint8Array.from({ length: 64 }, (_, i) => 0x41 + (i % 26));
    expect(latin1(other, 0, 26)).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(latin1(view, 0, 20)).toBe(chars(100, 120));
    const shared = new Uint8Array(new SharedArrayBuffer(64));
    shared.set(other);
    expect(latin1(shared.subarray(26), 0, 26)).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
  });
});
