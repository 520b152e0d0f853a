/**
 * HPACK string-literal Huffman decoding (RFC 7541 §5.2, code in Appendix B).
 *
 * The Appendix B code is canonical: listing the symbols by (code length, symbol value) and counting
 * up gives exactly the codes printed in the RFC (e.g. '0'..'2','a','c','e','i','o','s','t' are the
 * ten 5-bit codes 0x00..0x09, EOS is the last 30-bit code 0x3fffffff). So this file stores only the
 * code length of each of the 257 symbols, transcribed from the RFC table, derives the codes once at
 * module load, and from them a table for decoding four bits at a time (buildNibbleTables).
 * Tests check the derived codes against code values printed in the RFC and the Appendix C examples,
 * and the decoder against a bit-at-a-time reference.
 */

/** Code length in bits of symbols 0..255 and EOS (256), per RFC 7541 Appendix B. */
// prettier-ignore
const CODE_LENGTHS = Uint8Array.of(
  // 0x00..0x1f: control bytes
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  //  ' '  !   "   #   $   %   &   '   (   )   *   +   ,   -   .   /
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  //  0  1  2  3  4  5  6  7  8  9  :  ;   <  =   >   ?
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  //  @  A  B  C  D  E  F  G  H  I  J  K  L  M  N  O
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  //  P  Q  R  S  T  U  V  W  X  Y  Z   [   \   ]   ^  _
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  //  `  a  b  c  d  e  f  g  h  i  j  k  l  m  n  o
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  //  p  q  r  s  t  u  v  w  x  y  z   {   |   }   ~  DEL
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 0x80..0xff
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // EOS
  30,
);

export const HUFFMAN_EOS = 256;
const MAX_CODE_LENGTH = 30;

/** Derived code of each symbol, right-aligned (exported for tests and encoders). */
const CODES = new Uint32Array(257);

(function buildCanonicalCode(): void {
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let s = 0; s < 257; s++) count[CODE_LENGTHS[s]!]!++;
  let code = 0;
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    code = (code + count[len - 1]!) << 1;
    let next = code;
    for (let s = 0; s < 257; s++) if (CODE_LENGTHS[s] === len) CODES[s] = next++;
  }
})();

/** The RFC 7541 code of a symbol (0..256) as [code, bit length]; for tests and the encoder below. */
export function huffmanCode(symbol: number): [code: number, bits: number] {
  return [CODES[symbol] ?? 0, CODE_LENGTHS[symbol] ?? 0];
}

/** Result codes of huffmanDecode (a byte count when >= 0). */
export const HUFFMAN_ERR_EOS = -1; // the EOS symbol appeared inside the string (RFC 7541 §5.2)
export const HUFFMAN_ERR_PADDING = -2; // more than 7 padding bits, or padding not all ones
export const HUFFMAN_ERR_OVERFLOW = -3; // the output buffer is too small

/**
 * The code as a tree walked four bits at a time: for each internal node (the bits read since the
 * last symbol) and each nibble, the node reached and the symbol completed on the way, if any. The
 * shortest code has 5 bits, so a nibble completes at most one symbol. A bit at a time cost ~30 ns
 * per encoded byte: ~3 us of the ~5 us a gRPC request's HEADERS took to recognise.
 */
const NODES = 256; // a full binary tree with 257 leaves has 256 internal nodes
/** Per (node, nibble): the next node. */
const NIBBLE_NEXT = new Uint8Array(NODES * 16);
/** Per (node, nibble): the symbol completed, -1 none, or HUFFMAN_EOS. */
const NIBBLE_SYMBOL = new Int16Array(NODES * 16);
/** Per node: the bits read since the last symbol are a valid padding (at most 7, all ones). */
const PADDING_OK = new Uint8Array(NODES);

(function buildNibbleTables(): void {
  // children[node * 2 + bit]: an internal node (>= 0) or a leaf -(symbol + 1).
  const children = new Int32Array(NODES * 2);
  const depth = new Uint8Array(NODES);
  const allOnes = new Uint8Array(NODES).fill(1);
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const len = CODE_LENGTHS[sym]!;
    const code = CODES[sym]!;
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = (code >>> b) & 1;
      const at = node * 2 + bit;
      if (b === 0) {
        children[at] = -(sym + 1);
      } else {
        if (children[at] === 0) {
          children[at] = nodes;
          depth[nodes] = depth[node]! + 1;
          allOnes[nodes] = allOnes[node]! & bit;
          nodes++;
        }
        node = children[at]!;
      }
    }
  }
  for (let node = 0; node < NODES; node++) {
    PADDING_OK[node] = depth[node]! <= 7 && allOnes[node] === 1 ? 1 : 0;
    for (let nib = 0; nib < 16; nib++) {
      let at = node;
      let sym = -1;
      for (let b = 3; b >= 0; b--) {
        const c = children[at * 2 + ((nib >> b) & 1)]!;
        if (c >= 0) {
          at = c;
          continue;
        }
        sym = -c - 1;
        at = 0;
        if (sym === HUFFMAN_EOS) break;
      }
      NIBBLE_NEXT[node * 16 + nib] = at;
      NIBBLE_SYMBOL[node * 16 + nib] = sym;
    }
  }
})();

/**
 * Decodes the Huffman-coded bytes [start, end) of `src` into `out` from index 0. Returns the number
 * of bytes written, or a negative HUFFMAN_ERR_* code. Never throws; allocates nothing.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  let node = 0;
  const cap = out.length;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let at = node * 16 + (byte >> 4);
    let sym = NIBBLE_SYMBOL[at]!;
    if (sym >= 0) {
      if (sym === HUFFMAN_EOS) return HUFFMAN_ERR_EOS;
      if (n >= cap) return HUFFMAN_ERR_OVERFLOW;
      out[n++] = sym;
    }
    at = NIBBLE_NEXT[at]! * 16 + (byte & 15);
    sym = NIBBLE_SYMBOL[at]!;
    if (sym >= 0) {
      if (sym === HUFFMAN_EOS) return HUFFMAN_ERR_EOS;
      if (n >= cap) return HUFFMAN_ERR_OVERFLOW;
      out[n++] = sym;
    }
    node = NIBBLE_NEXT[at]!;
  }
  // The tail must be a strict prefix of EOS (all ones) and shorter than 8 bits.
  if (PADDING_OK[node] === 0) return HUFFMAN_ERR_PADDING;
  return n;
}

/** Huffman-encodes an ASCII/latin1 string (for tests that need crafted literals). */
export function huffmanEncode(s: string): Uint8Array {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += CODE_LENGTHS[s.charCodeAt(i) & 0xff]!;
  const out = new Uint8Array((bits + 7) >> 3);
  let pos = 0;
  const put = (code: number, len: number): void => {
    for (let b = len - 1; b >= 0; b--, pos++) if ((code >>> b) & 1) out[pos >> 3]! |= 0x80 >> (pos & 7);
  };
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    put(CODES[sym]!, CODE_LENGTHS[sym]!);
  }
  while (pos & 7) put(1, 1); // EOS-prefix padding
  return out;
}
