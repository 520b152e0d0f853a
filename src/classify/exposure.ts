/**
 * The exposure check: does the flow's client come from where the vendor document says clients of
 * that port should come from? Rules carry the documented exposure classes (rules/README.md
 * "Exposure"); this module decides per flow, from the client's address and the optional list of
 * monitoring hosts (`--monitoring-hosts`). Pure and per flow, never per packet.
 *
 * - public, external, active-active: any client is fine (the document allows outside clients).
 * - internal: the client must be on a private network: RFC 1918, RFC 6598 shared space, link-local,
 *   loopback, IPv6 ULA / link-local / loopback (and IPv4-mapped forms of those).
 * - localhost: the client must be a loopback address.
 * - monitoring-only: the client must be one of the monitoring hosts (or loopback); without
 *   `--monitoring-hosts` this cannot be decided and the flow is `unchecked`.
 * A rule with several classes is satisfied by any of them; an ambiguous flow (several candidate
 * rules) by any class of any candidate, so an ambiguity never produces a violation one of the
 * candidates would allow.
 */
import { parseAddress } from '../flow/key.js';
import { UsageError } from '../errors.js';
import { EXPOSURES, type Exposure } from '../rules/types.js';

export const ADDRESS_CLASSES = ['loopback', 'private', 'link-local', 'public'] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

export const EXPOSURE_STATUSES = ['ok', 'violation', 'unchecked'] as const;
export type ExposureStatus = (typeof EXPOSURE_STATUSES)[number];

/** What a flow record says about exposure (see docs/output-schema.md). */
export interface ExposureCheck {
  status: ExposureStatus;
  /** The class of the client's (originator's) address. */
  client: AddressClass;
  /** Whether the client is one of `--monitoring-hosts`; null when none were given. */
  monitoringHost: boolean | null;
  /** The exposure classes the matched rule(s) document, in EXPOSURES order. */
  allowed: Exposure[];
  /** Only with --policy (classify/policy-check.ts): which policy entry decided, and the client's networks. */
  policy?: PolicyDecision;
}

/** What --policy said about a flow's client. */
export interface PolicyDecision {
  /** `file:line:col` of the policy entry that decided, or null when the documented exposure did. */
  entry: string | null;
  /** That entry's networks (`from`), or null. */
  from: string[] | null;
  /** The policy's named networks the client is in. */
  clientNetworks: string[];
}

/** An address prefix: four 32-bit words like the flow key (IPv4 in the last word). */
export interface Cidr {
  readonly ipVersion: 4 | 6;
  readonly words: readonly [number, number, number, number];
  readonly bits: number;
}

/** Class of an address given as the flow key's four words. */
export function addressClass(ipVersion: number, w0: number, w1: number, w2: number, w3: number): AddressClass {
  if (ipVersion === 4) return ipv4Class(w3 >>> 0);
  if ((w0 | w1 | w2) === 0 && w3 === 1) return 'loopback';
  if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0xffff) return ipv4Class(w3 >>> 0); // ::ffff:a.b.c.d
  const top16 = w0 >>> 16;
  if ((top16 & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((top16 & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  return 'public';
}

function ipv4Class(a: number): AddressClass {
  const o1 = a >>> 24;
  const o2 = (a >>> 16) & 255;
  if (o1 === 127) return 'loopback';
  if (o1 === 10 || (o1 === 172 && (o2 & 0xf0) === 16) || (o1 === 192 && o2 === 168)) return 'private';
  if (o1 === 100 && (o2 & 0xc0) === 64) return 'private'; // 100.64.0.0/10 shared address space
  if (o1 === 169 && o2 === 254) return 'link-local';
  return 'public';
}

/**
 * Parses `10.0.0.0/8,192.0.2.7,fd00::/8` (commas and/or spaces). A bare address is a host (/32,
 * /128). Throws UsageError naming the first bad item.
 */
export function parseCidrList(text: string, option = '--monitoring-hosts'): Cidr[] {
  const items = text.split(/[\s,]+/).filter((x) => x !== '');
  if (items.length === 0) throw new UsageError(`${option}: give at least one address or prefix, e.g. 10.0.5.0/24,fd00:5::/64`);
  return items.map((item) => {
    const slash = item.indexOf('/');
    const addr = parseAddress(slash < 0 ? item : item.slice(0, slash));
    if (addr === null) throw new UsageError(`${option}: '${item}' is not an IPv4 or IPv6 address or prefix`);
    const max = addr[0] === 4 ? 32 : 128;
    const bitsText = slash < 0 ? String(max) : item.slice(slash + 1);
    const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
    if (!(bits >= 0 && bits <= max)) throw new UsageError(`${option}: '${item}' has a prefix length outside 0-${max}`);
    const ipVersion = addr[0] === 4 ? 4 : 6;
    // IPv4 lives in the last word: count its prefix from bit 96 of the 128-bit key.
    const keyBits = ipVersion === 4 ? 96 + bits : bits;
    const words = [addr[1], addr[2], addr[3], addr[4]].map((w, i) => (w & wordMask(keyBits, i)) >>> 0) as [number, number, number, number];
    return { ipVersion, words, bits };
  });
}

/** The mask of word i (0..3) for a prefix of `bits` bits over the 128-bit key. */
function wordMask(bits: number, i: number): number {
  const inWord = Math.max(0, Math.min(32, bits - i * 32));
  return inWord === 0 ? 0 : inWord === 32 ? 0xffffffff : (0xffffffff << (32 - inWord)) >>> 0;
}

export function inCidrs(list: readonly Cidr[], ipVersion: number, w0: number, w1: number, w2: number, w3: number): boolean {
  for (const c of list) {
    if (c.ipVersion !== ipVersion) continue;
    const keyBits = ipVersion === 4 ? 96 + c.bits : c.bits;
    if (((w0 & wordMask(keyBits, 0)) >>> 0) === c.words[0] && ((w1 & wordMask(keyBits, 1)) >>> 0) === c.words[1] &&
      ((w2 & wordMask(keyBits, 2)) >>> 0) === c.words[2] && ((w3 & wordMask(keyBits, 3)) >>> 0) === c.words[3]) {
      return true;
    }
  }
  return false;
}

/** The client of one flow, as the check needs it. */
export interface ExposureClient {
  readonly client: AddressClass;
  readonly monitoringHost: boolean | null;
}

/** Status of one documented class for this client. */
function statusFor(e: Exposure, c: ExposureClient): ExposureStatus {
  switch (e) {
    case 'public':
    case 'external':
    case 'active-active':
      return 'ok';
    case 'internal':
      return c.client === 'public' ? 'violation' : 'ok';
    case 'localhost':
      return c.client === 'loopback' ? 'ok' : 'violation';
    case 'monitoring-only':
      if (c.client === 'loopback' || c.monitoringHost === true) return 'ok';
      return c.monitoringHost === false ? 'violation' : 'unchecked';
  }
}

/** `allowed`: the union of the candidate rules' classes. ok beats unchecked beats violation. */
export function checkExposure(allowed: readonly Exposure[], c: ExposureClient): ExposureCheck {
  let status: ExposureStatus = 'violation';
  for (const e of allowed) {
    const s = statusFor(e, c);
    if (s === 'ok') {
      status = 'ok';
      break;
    }
    if (s === 'unchecked') status = 'unchecked';
  }
  return { status, client: c.client, monitoringHost: c.monitoringHost, allowed: EXPOSURES.filter((e) => allowed.includes(e)) };
}
