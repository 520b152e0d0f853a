/**
 * IPv4/IPv6 text -> the four 32-bit words the flow key uses (IPv4 in the last word), and address
 * prefixes (`10.0.0.0/8`, `fd00::/8`, a bare address = a host). Shared by flow/ (keys), classify/
 * (--monitoring-hosts) and rules/ (the --policy file).
 */

/** Parse an IPv4 or IPv6 literal into [version, w0, w1, w2, w3]; null if invalid. */
export function parseAddress(text: string): [number, number, number, number, number] | null {
  const v4 = ipv4Word(text);
  if (v4 !== -1) return v4 === -2 ? null : [4, 0, 0, 0, v4];

  if (!text.includes(':')) return null;
  let head = text;
  let tailV4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const v4 = parseAddress(maybeV4);
    if (!v4) return null;
    tailV4 = [v4[4] >>> 16, v4[4] & 0xffff];
    head = text.slice(0, lastColon + 1) + '0';
  }
  const parts = head.split('::');
  if (parts.length > 2) return null;
  const left = parts[0] ? parts[0].split(':') : [];
  const right = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  if (tailV4.length) right.pop();
  const fixed = [...left, ...right].length + tailV4.length;
  const fill = parts.length === 2 ? 8 - fixed : 0;
  if (fill < 0 || (parts.length === 1 && fixed !== 8)) return null;
  const all = [...left, ...Array<string>(fill).fill('0'), ...right].map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  all.push(...tailV4);
  if (all.length !== 8 || all.some((g) => Number.isNaN(g))) return null;
  const w = (i: number) => (((all[i]! << 16) | all[i + 1]!) >>> 0);
  return [6, w(0), w(2), w(4), w(6)];
}

/**
 * A dotted quad of 1-3 digit groups (`10.0.0.1`, `010.0.0.1`) as its 32-bit word; -2 for such a
 * quad with a group over 255; -1 for anything else. One pass over the characters: exporters parse
 * two addresses per flow record (`--ipfix`), and the regular expression and split took ~1 µs.
 */
function ipv4Word(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let word = 0;
  let group = 0;
  let digits = 0;
  let dots = 0;
  let over = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      group = group * 10 + (c - 48);
    } else if (c === 46 && digits > 0 && dots < 3) {
      if (group > 255) over = true;
      word = (word << 8) | (group & 0xff);
      group = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  if (group > 255 || over) return -2;
  return ((word << 8) | group) >>> 0;
}

/**
 * An IPv6 address without an IPv4 tail, as parseAddress reads one (groups of 1-4 hex digits, at
 * most one `::` standing for the missing groups, eight in all), in one pass per side of the `::`
 * instead of regular expressions and arrays per group.
 */
function ipv6Words(text: string): [number, number, number, number, number] | null {
  const parts = text.split('::');
  if (parts.length > 2) return null;
  const groups = ipv6Scratch;
  const left = parts[0] === '' ? 0 : hexGroups(parts[0]!, groups, 0);
  if (left < 0) return null;
  let right = 0;
  if (parts.length === 2 && parts[1] !== '') {
    right = hexGroups(parts[1]!, ipv6Right, 0);
    if (right < 0) return null;
  }
  const fill = parts.length === 2 ? 8 - left - right : 0;
  if (fill < 0 || (parts.length === 1 && left !== 8)) return null;
  for (let i = 0; i < fill; i++) groups[left + i] = 0;
  for (let i = 0; i < right; i++) groups[left + fill + i] = ipv6Right[i]!;
  const w = (i: number) => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return [6, w(0), w(2), w(4), w(6)];
}

const ipv6Scratch = new Int32Array(9);
const ipv6Right = new Int32Array(9);

/** Colon-separated groups of 1-4 hex digits from `text` into `out` at `at`: how many, or -1 (an empty or bad group, or more than 8). */
function hexGroups(text: string, out: Int32Array, at: number): number {
  let n = at;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 58; // the end closes the last group like a ':'
    if (c === 58) {
      if (digits === 0 || n >= 8) return -1;
      out[n++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0 || ++digits > 4) return -1;
    value = (value << 4) | d;
  }
  return n - at;
}

/** A prefix over the 128-bit key (IPv4 counted from bit 96). */
export interface AddressPrefix {
  readonly ipVersion: 4 | 6;
  readonly words: readonly [number, number, number, number];
  /** Prefix length as written (0-32 for IPv4, 0-128 for IPv6). */
  readonly bits: number;
}

/** `10.0.0.0/8`, `192.0.2.7` (a host), `fd00::/8`: the prefix, or a sentence saying what is wrong. */
export function parsePrefix(item: string): AddressPrefix | string {
  const slash = item.indexOf('/');
  const addr = parseAddress(slash < 0 ? item : item.slice(0, slash));
  if (addr === null) return `'${item}' is not an IPv4 or IPv6 address or prefix`;
  const max = addr[0] === 4 ? 32 : 128;
  const bitsText = slash < 0 ? String(max) : item.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= max)) return `'${item}' has a prefix length outside 0-${max}`;
  const ipVersion = addr[0] === 4 ? 4 : 6;
  const keyBits = ipVersion === 4 ? 96 + bits : bits;
  const words = [addr[1], addr[2], addr[3], addr[4]].map((w, i) => (w & prefixWordMask(keyBits, i)) >>> 0) as [number, number, number, number];
  return { ipVersion, words, bits };
}

/** The mask of word i (0..3) for a prefix of `bits` bits over the 128-bit key. */
export function prefixWordMask(bits: number, i: number): number {
  const inWord = Math.max(0, Math.min(32, bits - i * 32));
  return inWord === 0 ? 0 : inWord === 32 ? 0xffffffff : (0xffffffff << (32 - inWord)) >>> 0;
}

/** Whether the address (flow-key words) is inside any of the prefixes. */
export function inPrefixes(list: readonly AddressPrefix[], ipVersion: number, w0: number, w1: number, w2: number, w3: number): boolean {
  for (const c of list) {
    if (c.ipVersion !== ipVersion) continue;
    const keyBits = ipVersion === 4 ? 96 + c.bits : c.bits;
    if (((w0 & prefixWordMask(keyBits, 0)) >>> 0) === c.words[0] && ((w1 & prefixWordMask(keyBits, 1)) >>> 0) === c.words[1] &&
      ((w2 & prefixWordMask(keyBits, 2)) >>> 0) === c.words[2] && ((w3 & prefixWordMask(keyBits, 3)) >>> 0) === c.words[3]) {
      return true;
    }
  }
  return false;
}
