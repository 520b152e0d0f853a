/**
 * BSD loopback encapsulations (https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html,
 * .../LINKTYPE_LOOP.html): a 4-byte address family, then the IP packet.
 * - LINKTYPE_NULL (0): the AF_ value in the byte order of the machine that captured, which the
 *   file does not record. Both orders are accepted: AF values are small, so a value with any of the
 *   upper 16 bits set (read little-endian) was written big-endian.
 * - LINKTYPE_LOOP (108, OpenBSD): the AF_ value in network byte order.
 * AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly) or 30
 * (macOS, iOS), and all three appear in captures moved between systems.
 */
import { Anomaly } from '../util/anomaly.js';
import { u32be, u32le } from '../util/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethertype.js';
import { cut, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

export const NULL_HEADER_LEN = 4;
const BSD_AF_INET = 2;
const BSD_AF_INET6_BSD = 24;
const BSD_AF_INET6_FREEBSD = 28;
const BSD_AF_INET6_DARWIN = 30;

function familyToEtherType(out: DecodedPacket, family: number): number {
  switch (family) {
    case BSD_AF_INET:
      return ETHERTYPE_IPV4;
    case BSD_AF_INET6_BSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
      return ETHERTYPE_IPV6;
    default:
      return notIp(out, Anomaly.unknown_null_family);
  }
}

/** LINKTYPE_NULL: returns the EtherType implied by the family (out.l3Offset set) or -1. */
export function decodeNull(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < NULL_HEADER_LEN) return cut(out, Anomaly.truncated_null_header);
  const le = u32le(buf, off);
  const family = le > 0xffff ? u32be(buf, off) : le;
  out.l3Offset = off + NULL_HEADER_LEN;
  return familyToEtherType(out, family);
}

/** LINKTYPE_LOOP: as decodeNull, network byte order only. */
export function decodeLoop(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < NULL_HEADER_LEN) return cut(out, Anomaly.truncated_null_header);
  out.l3Offset = off + NULL_HEADER_LEN;
  return familyToEtherType(out, u32be(buf, off));
}
