/**
 * IPv4/IPv6 text -> the four 32-bit words the flow key uses (IPv4 in the last word), and address
 * prefixes (`10.0.0.0/8`, `fd00::/8`, a bare address = a host). Shared by flow/ (keys), classify/
 * (--monitoring-hosts) and rules/ (the --policy file).
 */

/** Parse an IPv4 or IPv6 literal into [version, w0, w1, w2, w3]; null if invalid. */
export function parseAddress(text: string): [number, number, number, number, number] | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const p = text.split('.').map(Number);
    if (p.some((x) => x > 255)) return null;
    return [4, 0, 0, 0, (((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0)];
  }
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
