/**
 * Flow keys without objects: a flow is identified by transport, both endpoints and VLAN ids. The
 * key is canonical (the "lower" endpoint first) so both directions of a conversation land on the
 * same flow; canonicalKeyHash() hashes it in that order for the flow table's index. Sharding uses
 * pairHash() instead: symmetric (gopacket FastHash idea) and over the host pair only.
 */
import type { DecodedPacket } from '../decode/types.js';

/** The key's VLAN word of a packet: tag count << 24 | outer VID << 12 | inner VID (0: untagged). */
export function vlanKey(p: DecodedPacket): number {
  return (p.vlanCount << 24) | (p.vlanOuter << 12) | p.vlanInner;
}

/** The VLAN ids of a vlanKey() word, outer first; empty when untagged. */
export function vlanIds(key: number): number[] {
  const count = key >>> 24;
  return count === 0 ? [] : count === 1 ? [(key >>> 12) & 0xfff] : [(key >>> 12) & 0xfff, key & 0xfff];
}

/** Flips the sign bit: the signed order of `w ^ SIGN` is the unsigned order of the int32 words `w`. */
const SIGN = -0x80000000;

/**
 * Compare endpoint (a0..a3, aPort) with (b0..b3, bPort); negative when a < b. Address words are
 * int32 (decode/types.ts) and compare as the unsigned big-endian words they are.
 */
export function compareEndpoints(
  a0: number, a1: number, a2: number, a3: number, aPort: number,
  b0: number, b1: number, b2: number, b3: number, bPort: number,
): number {
  if (a0 !== b0) return (a0 ^ SIGN) < (b0 ^ SIGN) ? -1 : 1;
  if (a1 !== b1) return (a1 ^ SIGN) < (b1 ^ SIGN) ? -1 : 1;
  if (a2 !== b2) return (a2 ^ SIGN) < (b2 ^ SIGN) ? -1 : 1;
  if (a3 !== b3) return (a3 ^ SIGN) < (b3 ^ SIGN) ? -1 : 1;
  return aPort - bPort;
}

/**
 * Hash of a key already in canonical order (endpoint A <= endpoint B): the order is fixed, so it
 * need not be symmetric. Used by the flow table's index. An int32, like the address words.
 */
export function canonicalKeyHash(
  a0: number, a1: number, a2: number, a3: number, aPort: number,
  b0: number, b1: number, b2: number, b3: number, bPort: number,
  proto: number, vlan: number,
): number {
  let h = Math.imul(a3 ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b3 ^ 0x7f4a7c15, 0xc2b2ae35);
  h ^= Math.imul(((aPort << 16) | bPort) ^ (proto << 8), 0x27d4eb2f);
  if ((a0 | a1 | a2 | b0 | b1 | b2) !== 0) {
    h ^= Math.imul(a0 ^ Math.imul(a1, 0x165667b1) ^ Math.imul(a2, 0xd3a2646c), 0x9e3779b1);
    h ^= Math.imul(b0 ^ Math.imul(b1, 0xfd7046c5) ^ Math.imul(b2, 0xb55a4f09), 0x85ebca77);
  }
  if (vlan !== 0) h ^= Math.imul(vlan, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

/**
 * The VLAN word as the key hash sees it (canonicalKeyHash's `vlan`), with the tunnel context folded
 * in; the flow table's rows compare both words exactly.
 */
export function keyMix(vlan: number, tunnel: number): number {
  return tunnel === 0 ? vlan : vlan ^ Math.imul(tunnel, 0x2c1b3c6d);
}

/**
 * Host pairs are split into PAIR_BUCKETS buckets by `pairHash`. The worker pipeline gives each
 * worker whole buckets (bucket % workers), and the bounded per-flow pools whose sharing could let
 * one flow change another's result (IP fragment table, classifier reassembly buffers) are split
 * along the same buckets, so that their behaviour does not depend on the number of workers.
 */
export const PAIR_BUCKETS = 64;

/**
 * Symmetric hash of a host pair and its VLAN tags (ports and protocol left out, so later IP
 * fragments and ICMP errors between the same hosts hash alike). `vlan` is the flow key's VLAN word
 * (vlanKey). Runs on the reading thread for every record, so it is
 * kept to a few multiplications: sum and xor of the two endpoints are both order-independent.
 */
export function pairHash(
  s0: number, s1: number, s2: number, s3: number,
  d0: number, d1: number, d2: number, d3: number,
  vlan: number,
): number {
  let a = s3 | 0;
  let b = d3 | 0;
  if ((s0 | s1 | s2 | d0 | d1 | d2) !== 0) {
    a ^= Math.imul(s0, 0x9e3779b1) ^ Math.imul(s1, 0x85ebca77) ^ Math.imul(s2, 0xc2b2ae3d);
    b ^= Math.imul(d0, 0x9e3779b1) ^ Math.imul(d1, 0x85ebca77) ^ Math.imul(d2, 0xc2b2ae3d);
  }
  let h = Math.imul((a + b) | 0, 0x9e3779b1) ^ Math.imul(a ^ b, 0x85ebca6b) ^ Math.imul(vlan, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** The bucket (0..PAIR_BUCKETS-1) of a pairHash value. */
export function pairBucket(h: number): number {
  return h & (PAIR_BUCKETS - 1);
}

/** Format an address held as four 32-bit words. */
export function formatAddress(ipVersion: number, w0: number, w1: number, w2: number, w3: number): string {
  if (ipVersion === 4) return `${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  // IPv4-mapped addresses print as ::ffff:a.b.c.d, as tshark and inet_ntop do.
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return `::ffff:${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  }
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

// Parsing lives in util/ so that rules/ (the --policy file) can validate addresses too.
export { parseAddress } from '../util/address.js';
