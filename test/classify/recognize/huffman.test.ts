import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HUFFMAN_ERR_EOS,
  HUFFMAN_ERR_OVERFLOW,
  HUFFMAN_ERR_PADDING,
  huffmanCode,
  huffmanDecode,
  huffmanEncode,
} from '../../../src/classify/recognize/huffman.js';
import { hex } from './samples.js';

const decode = (b: Uint8Array): string | number => {
  const out = new Uint8Array(1024);
  const n = huffmanDecode(b, 0, b.length, out);
  return n < 0 ? n : Buffer.from(out.subarray(0, n)).toString('latin1');
};

describe('HPACK Huffman code (RFC 7541 Appendix B)', () => {
  it('derives the codes printed in the RFC table', () => {
    // [symbol, code as hex, length] rows copied from the RFC table, spread over all lengths
    const rows: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [22, 0x3ffffffe, 30],
      [32, 0x14, 6], [33, 0x3f8, 10], [48, 0x0, 5], [58, 0x5c, 7], [60, 0x7ffc, 15], [92, 0x7fff0, 19],
      [97, 0x3, 5], [116, 0x9, 5], [122, 0x7b, 7], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
      [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [225, 0xfffff3, 24],
      [249, 0xffffffe, 28], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of rows) expect(huffmanCode(sym), `symbol ${sym}`).toEqual([code, len]);
  });

  it('is a complete prefix code (Kraft sum exactly 1)', () => {
    let kraft = 0;
    for (let s = 0; s <= 256; s++) kraft += 2 ** -huffmanCode(s)[1];
    expect(kraft).toBe(1);
  });

  it('decodes the RFC 7541 Appendix C.4 and C.6 Huffman strings', () => {
    expect(decode(hex('f1e3c2e5f23a6ba0ab90f4ff'))).toBe('www.example.com');
    expect(decode(hex('a8eb10649cbf'))).toBe('no-cache');
    expect(decode(hex('25a849e95ba97d7f'))).toBe('custom-key');
    expect(decode(hex('25a849e95bb8e8b4bf'))).toBe('custom-value');
    expect(decode(hex('6402'))).toBe('302');
    expect(decode(hex('aec3771a4b'))).toBe('private');
    expect(decode(hex('d07abe941054d444a8200595040b8166e082a62d1bff'))).toBe('Mon, 21 Oct 2013 20:13:21 GMT');
    expect(decode(hex('9d29ad171863c78f0b97c8e9ae82ae43d3'))).toBe('https://www.example.com');
  });

  it('round-trips every byte value and random strings', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    expect(decode(huffmanEncode(all))).toBe(all);
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 60 }), (s) => {
        expect(decode(huffmanEncode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects EOS inside a string, long or non-EOS padding, and overflow', () => {
    expect(decode(hex('ffffffff'))).toBe(HUFFMAN_ERR_EOS); // 30 one-bits = EOS
    expect(decode(hex('1fff'))).toBe(HUFFMAN_ERR_PADDING); // '0' (00000) then 11 padding bits
    expect(decode(hex('00'))).toBe(HUFFMAN_ERR_PADDING); // '0' then padding 000 (not EOS prefix)
    expect(decode(hex('07'))).toBe('0'); // '0' then padding 111: fine
    const out = new Uint8Array(2);
    const b = huffmanEncode('abc');
    expect(huffmanDecode(b, 0, b.length, out)).toBe(HUFFMAN_ERR_OVERFLOW);
    expect(huffmanDecode(b, 0, 0, out)).toBe(0);
  });
});

/**
 * The code walked one bit at a time, straight from the canonical code lengths: the reference the
 * nibble-table decoder in src must agree with, result code and bytes, on any input.
 */
function referenceDecode(src: Uint8Array, out: Uint8Array): number {
  const byLength = new Map<string, number>();
  for (let s = 0; s <= 256; s++) {
    const [code, len] = huffmanCode(s);
    byLength.set(`${len}:${code}`, s);
  }
  let n = 0;
  let code = 0;
  let len = 0;
  for (const byte of src) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const sym = byLength.get(`${len}:${code}`);
      if (sym === undefined) continue;
      if (sym === 256) return HUFFMAN_ERR_EOS;
      if (n >= out.length) return HUFFMAN_ERR_OVERFLOW;
      out[n++] = sym;
      code = 0;
      len = 0;
    }
  }
  if (len > 7 || code !== 2 ** len - 1) return HUFFMAN_ERR_PADDING;
  return n;
}

describe('huffmanDecode against a bit-at-a-time reference', () => {
  const both = (b: Uint8Array, room: number): [number | string, number | string] => {
    const a = new Uint8Array(room);
    const r = new Uint8Array(room);
    const na = huffmanDecode(b, 0, b.length, a);
    const nr = referenceDecode(b, r);
    const text = (n: number, o: Uint8Array): number | string => (n < 0 ? n : Buffer.from(o.subarray(0, n)).toString('latin1'));
    return [text(na, a), text(nr, r)];
  };

  it('agrees on random bytes, on encoded strings, and on encoded strings cut, flipped or with too little room', () => {
    const text = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.integer({ min: 0, max: 64 }), (b, room) => {
        const [got, want] = both(b, room);
        expect(got).toEqual(want);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 48 }), (s, cut, flip, room) => {
        const enc = huffmanEncode(s);
        const variants = [enc, enc.subarray(0, enc.length === 0 ? 0 : cut % enc.length)];
        if (enc.length > 0) {
          const flipped = enc.slice();
          flipped[flip % enc.length]! ^= 1 << (flip % 8);
          variants.push(flipped);
        }
        for (const v of variants) for (const r of [room, 64]) {
          const [got, want] = both(v, r);
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes a string that uses every code length and ends on every padding length', () => {
    for (let pad = 0; pad < 8; pad++) {
      let s = '';
      for (let c = 0; c < 256; c++) s += String.fromCharCode(c);
      s = s.slice(pad); // a different total bit count per round, so a different padding
      const [got, want] = both(huffmanEncode(s), 512);
      expect(got).toBe(s);
      expect(want).toBe(s);
    }
  });
});
