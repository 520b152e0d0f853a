/**
 * Text that goes into a table cell. Evidence strings (SNI, HTTP paths) come from packet bytes and
 * may hold control characters, escape sequences, wide or zero-width characters: any of them would
 * break the frame (or drive the terminal). safeText keeps only characters that occupy exactly one
 * terminal cell, so a string's length is its width, and the padding helpers can align columns
 * without measuring.
 */

/** Longer input is cut before sanitising (a hostile 64 KiB path costs nothing). */
const MAX_INPUT = 512;

/** Code point ranges known to be one cell wide (Latin, Greek, Cyrillic, punctuation, arrows, boxes). */
const NARROW: ReadonlyArray<readonly [number, number]> = [
  [0x20, 0x7e],
  [0xa0, 0xac],
  [0xae, 0x2ff],
  [0x370, 0x52f],
  [0x2010, 0x2027],
  [0x2030, 0x205e],
  [0x20a0, 0x20bf],
  [0x2100, 0x214f],
  [0x2190, 0x23ff],
  [0x2500, 0x25ff],
  [0x2713, 0x2713],
  [0x2717, 0x2717],
];

function narrow(cp: number): boolean {
  for (const [lo, hi] of NARROW) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** The string with every character that is not one cell wide replaced by '?'. */
export function safeText(s: string): string {
  const input = s.length > MAX_INPUT ? s.slice(0, MAX_INPUT) : s;
  let clean = true;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      clean = false;
      break;
    }
  }
  if (clean) return input;
  let out = '';
  for (const ch of input) out += narrow(ch.codePointAt(0)!) ? ch : '?';
  return out;
}

/** Left-aligned in exactly `width` cells: cut with '…' when longer, padded when shorter. */
export function fit(s: string, width: number): string {
  const w = Math.max(0, Math.floor(width));
  if (w === 0) return '';
  const t = safeText(s);
  if (t.length <= w) return t.padEnd(w);
  return w === 1 ? '…' : `${t.slice(0, w - 1)}…`;
}

/** Right-aligned in exactly `width` cells (numbers). */
export function fitRight(s: string, width: number): string {
  const w = Math.max(0, Math.floor(width));
  if (w === 0) return '';
  const t = safeText(s);
  if (t.length <= w) return t.padStart(w);
  return w === 1 ? '…' : `${t.slice(0, w - 1)}…`;
}

/** Like fit, but cut in the middle so both ends stay visible (addresses, endpoints). */
export function fitMiddle(s: string, width: number): string {
  const w = Math.max(0, Math.floor(width));
  if (w === 0) return '';
  const t = safeText(s);
  if (t.length <= w) return t.padEnd(w);
  if (w < 3) return fit(t, w);
  const head = Math.ceil((w - 1) / 2);
  return `${t.slice(0, head)}…${t.slice(t.length - (w - 1 - head))}`;
}

/** Cut to at most `width` cells (no padding): for the last column and free lines. */
export function clip(s: string, width: number): string {
  const w = Math.max(0, Math.floor(width));
  const t = safeText(s);
  if (t.length <= w) return t;
  if (w === 0) return '';
  return w === 1 ? '…' : `${t.slice(0, w - 1)}…`;
}

/** Words wrapped to lines of at most `width` cells (long words are cut); at most `maxLines`. */
export function wrap(s: string, width: number, maxLines = Infinity): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let line = '';
  for (const word of safeText(s).split(/\s+/).filter((x) => x !== '')) {
    const piece = word.length > w ? clip(word, w) : word;
    if (line === '') line = piece;
    else if (line.length + 1 + piece.length <= w) line += ` ${piece}`;
    else {
      lines.push(line);
      line = piece;
    }
  }
  if (line !== '') lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, Math.max(0, maxLines));
    if (kept.length > 0) kept[kept.length - 1] = clip(`${kept[kept.length - 1]!} …`, w);
    return kept;
  }
  return lines;
}
