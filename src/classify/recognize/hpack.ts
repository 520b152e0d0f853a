/**
 * HPACK header-block decoding (RFC 7541), enough to read the first request or response headers of
 * an HTTP/2 connection: static table (Appendix A), dynamic-table insertions and evictions (§2.3,
 * §4), prefix integers (§5.1), string literals with Huffman coding (§5.2), all five field
 * representations (§6) and table-size updates (§6.3).
 *
 * The recogniser sees the first HEADERS block of a connection, so the dynamic table starts empty;
 * one HpackDecoder can still decode several blocks in a row (the RFC Appendix C examples do).
 * Decoding stops at the first field that runs past the end of the bytes ("truncated", need more
 * data) or that breaks a rule ("error", bad data); the fields decoded before it are kept.
 */
import { latin1 } from './bytes.js';
import { HUFFMAN_ERR_OVERFLOW, huffmanDecode } from './huffman.js';

/** RFC 7541 Appendix A, index 1..61 (index 0 unused). */
// prettier-ignore
export const HPACK_STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''],
  ['cache-control', ''], ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''],
  ['content-length', ''], ['content-location', ''], ['content-range', ''], ['content-type', ''],
  ['cookie', ''], ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
  ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''],
  ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
  ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
  ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];
const STATIC_COUNT = 61;

/** SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 §6.5.2). */
export const HPACK_DEFAULT_TABLE_SIZE = 4096;
/** Per-entry overhead in the table-size accounting (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;
/** Larger table-size updates are treated as bad data (no real peer advertises more). */
const MAX_TABLE_SIZE = 1 << 20;
/** Prefix integers longer than this are bad data here (no length, index or table size in a header block of a few KiB needs more). */
const MAX_INT_SHIFT = 28;
/** Bound on fields decoded per block (the work on garbage); real request and response blocks carry a few dozen. */
export const HPACK_MAX_FIELDS = 128;

/** Why decoding stopped. */
export type HpackStop =
  | 'end' // every byte of the block was decoded
  | 'truncated' // a field runs past the end of the bytes given (the block was cut)
  | 'bad_index' // index 0, or past the end of the static + dynamic tables
  | 'bad_huffman' // EOS inside a string, or bad padding
  | 'bad_integer' // prefix integer too long
  | 'bad_table_size' // table-size update too large, or after a field (§4.2)
  | 'too_many_fields';

export interface HpackResult {
  /** Decoded fields in order, names as sent (lower case in HTTP/2). */
  fields: [name: string, value: string][];
  stop: HpackStop;
}

/** Shared scratch for Huffman output; a literal longer than this is treated as truncated data. */
const HUFFMAN_SCRATCH = new Uint8Array(4096);

export class HpackDecoder {
  /** Dynamic table, newest first, and each entry's size in the §4.1 accounting (values may be left unbuilt). */
  private readonly table: [string, string][] = [];
  private readonly entrySizes: number[] = [];
  private size = 0;
  private maxSize: number;
  /**
   * Names whose fields decode() returns, with their values; null: every field. Other fields are
   * still decoded to the same rules (Huffman checked, table kept), but their values are not built
   * into strings and they are left out of `fields`: what a summary needs from a block (`:path`,
   * `content-type`) at a fraction of the cost.
   */
  private readonly only: readonly string[] | null;

  constructor(maxSize = HPACK_DEFAULT_TABLE_SIZE, only: readonly string[] | null = null) {
    this.maxSize = maxSize;
    this.only = only;
  }

  /** Number of entries in the dynamic table (tests). */
  get dynamicCount(): number {
    return this.table.length;
  }

  /** Dynamic-table size in the §4.1 accounting (tests). */
  get dynamicSize(): number {
    return this.size;
  }

  /** Decodes the header block bytes [start, end) of `buf`. Never throws. */
  decode(buf: Uint8Array, start: number, end: number): HpackResult {
    const fields: [string, string][] = [];
    const only = this.only;
    let count = 0;
    let p = start;
    let sawField = false;
    // The readers below report through these slots to avoid allocating result objects.
    const r = { value: 0, next: 0, str: '' };
    while (p < end) {
      if (count >= HPACK_MAX_FIELDS) return { fields, stop: 'too_many_fields' };
      const b = buf[p]!;
      if (b & 0x80) {
        // §6.1 indexed field
        const st = readInt(buf, p, end, 7, r);
        if (st !== null) return { fields, stop: st };
        const f = this.lookup(r.value);
        if (f === null) return { fields, stop: 'bad_index' };
        if (only === null || only.includes(f[0])) fields.push([f[0], f[1]]);
        count++;
        p = r.next;
        sawField = true;
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only before the first field of a block (§4.2)
        const st = readInt(buf, p, end, 5, r);
        if (st !== null) return { fields, stop: st };
        if (sawField || r.value > MAX_TABLE_SIZE) return { fields, stop: 'bad_table_size' };
        this.maxSize = r.value;
        this.evict(0);
        p = r.next;
        continue;
      }
      // §6.2 literals: 01 = with incremental indexing (6-bit index), 0000/0001 = without / never (4-bit)
      const indexing = (b & 0xc0) === 0x40;
      const st = readInt(buf, p, end, indexing ? 6 : 4, r);
      if (st !== null) return { fields, stop: st };
      p = r.next;
      let name: string;
      if (r.value === 0) {
        const sst = readString(buf, p, end, r, true);
        if (sst !== null) return { fields, stop: sst };
        name = r.str;
        p = r.next;
      } else {
        const f = this.lookup(r.value);
        if (f === null) return { fields, stop: 'bad_index' };
        name = f[0];
      }
      const wanted = only === null || only.includes(name);
      const vst = readString(buf, p, end, r, wanted);
      if (vst !== null) return { fields, stop: vst };
      // Unbuilt values keep their octet length (r.value) for the table's accounting.
      const value = wanted ? r.str : '';
      p = r.next;
      if (wanted) fields.push([name, value]);
      count++;
      sawField = true;
      if (indexing) this.insert(name, value, name.length + r.value + ENTRY_OVERHEAD);
    }
    return { fields, stop: 'end' };
  }

  private lookup(index: number): readonly [string, string] | null {
    if (index <= 0) return null;
    if (index <= STATIC_COUNT) return HPACK_STATIC_TABLE[index]!;
    return this.table[index - STATIC_COUNT - 1] ?? null;
  }

  private insert(name: string, value: string, entrySize: number): void {
    // §4.4: an entry larger than the whole table empties it and is not added.
    if (entrySize > this.maxSize) {
      this.table.length = 0;
      this.entrySizes.length = 0;
      this.size = 0;
      return;
    }
    this.evict(entrySize);
    this.table.unshift([name, value]);
    this.entrySizes.unshift(entrySize);
    this.size += entrySize;
  }

  /** Evicts oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.maxSize) {
      this.table.pop();
      this.size -= this.entrySizes.pop()!;
    }
  }
}

interface Slot {
  value: number;
  next: number;
  str: string;
}

/** §5.1 prefix integer at buf[p] with an N-bit prefix. Sets slot.value/next; returns a stop or null. */
function readInt(buf: Uint8Array, p: number, end: number, prefixBits: number, slot: Slot): HpackStop | null {
  const mask = (1 << prefixBits) - 1;
  let value = buf[p]! & mask;
  p++;
  if (value === mask) {
    let shift = 0;
    for (;;) {
      if (p >= end) return 'truncated';
      const b = buf[p++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > MAX_INT_SHIFT) return 'bad_integer';
    }
  }
  slot.value = value;
  slot.next = p;
  return null;
}

/**
 * §5.2 string literal at buf[p]. Sets slot.next, slot.value (the string's octet length, decoded)
 * and, when `build`, slot.str; returns a stop or null. Huffman strings are decoded either way (the
 * same stops, the same length).
 */
function readString(buf: Uint8Array, p: number, end: number, slot: Slot, build: boolean): HpackStop | null {
  if (p >= end) return 'truncated';
  const huffman = (buf[p]! & 0x80) !== 0;
  const st = readInt(buf, p, end, 7, slot);
  if (st !== null) return st;
  const len = slot.value;
  const s = slot.next;
  if (len > end - s) return 'truncated';
  if (huffman) {
    const n = huffmanDecode(buf, s, s + len, HUFFMAN_SCRATCH);
    if (n < 0) return n === HUFFMAN_ERR_OVERFLOW ? 'truncated' : 'bad_huffman';
    if (build) slot.str = latin1(HUFFMAN_SCRATCH, 0, n);
    slot.value = n;
  } else if (build) {
    slot.str = latin1(buf, s, s + len);
  }
  slot.next = s + len;
  return null;
}

/** The value of the first field named `name` (exact, lower-case match), or undefined. */
export function headerValue(fields: readonly (readonly [string, string])[], name: string): string | undefined {
  for (const f of fields) if (f[0] === name) return f[1];
  return undefined;
}
