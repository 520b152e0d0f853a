/**
 * Raw IP link types (https://www.tcpdump.org/linktypes.html): LINKTYPE_RAW (101) starts with an
 * IPv4 or IPv6 header, told apart by the version nibble; LINKTYPE_IPV4 (228) and LINKTYPE_IPV6
 * (229) fix the version (the IP decoder still checks it).
 */
import { Anomaly } from '../util/anomaly.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethertype.js';
import { cut, malformed } from './status.js';
import type { DecodedPacket } from './types.js';

const IP_VERSION_4 = 4;
const IP_VERSION_6 = 6;

/** LINKTYPE_RAW: returns ETHERTYPE_IPV4/IPV6 after the version nibble (out.l3Offset = off) or -1. */
export function decodeRawIp(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < 1) return cut(out, Anomaly.truncated_link_header);
  out.l3Offset = off;
  const version = buf[off]! >> 4;
  if (version === IP_VERSION_4) return ETHERTYPE_IPV4;
  if (version === IP_VERSION_6) return ETHERTYPE_IPV6;
  return malformed(out, Anomaly.raw_ip_bad_version);
}
