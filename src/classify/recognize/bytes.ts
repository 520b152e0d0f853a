/**
 * Small byte helpers shared by the payload recognisers: ASCII matching without building strings,
 * and a latin1 string builder used only once something has matched.
 *
 * Every helper takes an explicit `end` (exclusive) and never reads at or past it, so a caller can
 * hand over a window of a larger buffer without slicing it.
 */

/** Encodes an ASCII literal once, at module load, for byte-wise comparisons. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** True when `lit` occurs at `pos` and ends at or before `end`. */
export function matchBytes(buf: Uint8Array, pos: number, end: number, lit: Uint8Array): boolean {
  if (pos < 0 || pos + lit.length > end) return false;
  for (let i = 0; i < lit.length; i++) if (buf[pos + i] !== lit[i]) return false;
  return true;
}

/** Case-insensitive match of a lower-case ASCII literal (letters only are folded). */
export function matchLower(buf: Uint8Array, pos: number, end: number, lit: Uint8Array): boolean {
  if (pos < 0 || pos + lit.length > end) return false;
  for (let i = 0; i < lit.length; i++) {
    let b = buf[pos + i]!;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lit[i]) return false;
  }
  return true;
}

/** Visible ASCII: 0x21..0x7e (no space, no controls). */
export function isVisible(b: number): boolean {
  return b > 0x20 && b < 0x7f;
}

export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

export function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

export function isAlpha(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** Longest string any recogniser builds from packet bytes: longer fields are cut (detail only). */
export const MAX_DETAIL_CHARS = 256;

/**
 * Bytes [start, end) as a latin1 string (one char per byte, so it never throws on any byte and
 * string length equals octet length, which HPACK's table-size accounting relies on). Callers cap
 * the length for display fields.
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // Short strings by concatenation (V8 copies strings under 13 chars flat); longer ones in one
  // native call over a Buffer view of the same memory: char by char they would be a rope of one
  // node per char (~32 bytes each), which a flow's evidence keeps alive until the flow ends, and
  // String.fromCharCode.apply over a subarray took ~300 ns for an 80-byte gRPC path (~70 here).
  if (end - start <= 12) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  // Clamped to buf as subarray() would: the view spans all of buf's memory, not just buf.
  const from = buf.byteOffset + Math.max(0, Math.min(start, buf.length));
  const to = buf.byteOffset + Math.max(0, Math.min(end, buf.length));
  return bufferView(buf).toString('latin1', from, to);
}

/** Buffer views of the memory recognisers read (the read chunks, reassembly pool, scratch). */
const views = new WeakMap<ArrayBufferLike, Buffer>();
let lastMemory: ArrayBufferLike | null = null;
let lastView: Buffer | null = null;

function bufferView(buf: Uint8Array): Buffer {
  const memory = buf.buffer;
  if (memory === lastMemory) return lastView!;
  let view = views.get(memory);
  if (view === undefined) {
    view = Buffer.from(memory, 0, memory.byteLength);
    views.set(memory, view);
  }
  lastMemory = memory;
  lastView = view;
  return view;
}

/** Like latin1() but cut to MAX_DETAIL_CHARS, for detail fields. */
export function detailString(buf: Uint8Array, start: number, end: number): string {
  return latin1(buf, start, Math.min(end, start + MAX_DETAIL_CHARS));
}

/**
 * Clamps a caller's (offset, length) window to the buffer. Returns the exclusive end, or -1 when
 * the window is empty or nonsensical (negative, NaN, past the end).
 */
export function windowEnd(buf: Uint8Array, offset: number, length: number): number {
  if (!(offset >= 0) || !(length > 0) || !Number.isInteger(offset) || !Number.isInteger(length)) return -1;
  if (offset >= buf.length) return -1;
  return Math.min(buf.length, offset + length);
}
