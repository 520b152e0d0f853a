/**
 * Address matching for the filter bar: "10.1.2.3" (exact), "10.1." (textual prefix), "10.0.0.0/8"
 * or "fd00::/8" (CIDR). The UI may not import flow/ code, so the small IPv4/IPv6 parser lives here.
 */

/** An address as bytes (4 for IPv4, 16 for IPv6), or null when the text is not one. */
export function parseIp(text: string): Uint8Array | null {
  const t = text.trim();
  return t.includes(':') ? parseIpv6(t) : parseIpv4(t);
}

function parseIpv4(t: string): Uint8Array | null {
  const parts = t.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIpv6(t: string): Uint8Array | null {
  let text = t;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as the last two groups.
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === null) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out2: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out2.push(parseInt(g, 16));
    }
    return out2;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || rest === null) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) return null;
  const all = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  if (tail !== null) out.set(tail, 12);
  return out;
}

export interface Cidr {
  bytes: Uint8Array;
  bits: number;
}

/** "10.0.0.0/8" -> {bytes, bits}; an error message when it is not a valid prefix. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const ip = parseIp(text.slice(0, slash));
  if (ip === null) return `'${text.slice(0, slash)}' is not an IPv4 or IPv6 address`;
  const bitsText = text.slice(slash + 1);
  const max = ip.length * 8;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return `prefix length must be 0-${max}, got '${bitsText}'`;
  return { bytes: ip, bits: Number(bitsText) };
}

export function inCidr(ip: Uint8Array, cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  let bits = cidr.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}
