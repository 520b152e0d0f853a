/**
 * Geneve (RFC 8926 section 3.4): version (2 bits) and option length (6 bits, in 4-byte words),
 * O and C flags and reserved bits (1), protocol type (2, an EtherType), VNI (3), reserved (1) = 8
 * bytes, then options of any kind (skipped by their total length, up to 252 bytes), then the
 * payload: an Ethernet frame (protocol 0x6558, Transparent Ethernet Bridging) or an IPv4/IPv6
 * packet. Carried in UDP to port 6081.
 *
 * Only version 0 exists; another version is geneve_bad_version and the payload is left closed.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u32be } from '../util/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_TEB } from './ethertype.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

export const GENEVE_HEADER_LEN = 8;
const GENEVE_VER_OPTLEN = 0;
const GENEVE_PROTOCOL = 2;
const GENEVE_VNI = 4;
const GENEVE_OPTLEN_MASK = 0x3f;
const GENEVE_VERSION_SHIFT = 6;

/** The Geneve header at `off` (arguments as decodeVxlan). */
export function decodeGeneve(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number): void {
  if (capEnd - off < GENEVE_HEADER_LEN) {
    note(out, Anomaly.truncated_geneve_header);
    return;
  }
  const b0 = buf[off + GENEVE_VER_OPTLEN]!;
  if (b0 >> GENEVE_VERSION_SHIFT !== 0) {
    note(out, Anomaly.geneve_bad_version);
    return;
  }
  const len = GENEVE_HEADER_LEN + ((b0 & GENEVE_OPTLEN_MASK) << 2);
  if (capEnd - off < len) {
    note(out, Anomaly.truncated_geneve_header);
    return;
  }
  let kind: number;
  switch (u16be(buf, off + GENEVE_PROTOCOL)) {
    case ETHERTYPE_TEB:
      kind = InnerKind.Ethernet;
      break;
    case ETHERTYPE_IPV4:
      kind = InnerKind.Ipv4;
      break;
    case ETHERTYPE_IPV6:
      kind = InnerKind.Ipv6;
      break;
    default:
      note(out, Anomaly.geneve_unknown_protocol);
      return;
  }
  openTunnel(out, TunnelType.GENEVE, u32be(buf, off + GENEVE_VNI) >>> 8, true, kind, off + len, capEnd, declEnd);
}
