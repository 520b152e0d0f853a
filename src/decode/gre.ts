/**
 * GRE (RFC 2784, with the key and sequence number of RFC 2890; version 1 as PPTP uses it, RFC
 * 2637 section 4.1; source routing of RFC 1701): flags and version (2), protocol type (2, an
 * EtherType), then optional fields in this order:
 * - checksum (2) + reserved/offset (2), when C or R is set;
 * - key (4) when K is set (version 1: payload length (2) + call id (2));
 * - sequence number (4) when S is set;
 * - acknowledgment number (4) when A is set (version 1 only);
 * - routing (RFC 1701, when R is set): source route entries of address family (2), offset (1),
 *   length (1) and that many bytes, ended by an entry with family 0 and length 0.
 * The whole header with every optional field is checked once before the payload is looked at.
 *
 * Payload by protocol type: IPv4, IPv6, Ethernet (0x6558), MPLS (0x8847/0x8848), PPP (0x880b,
 * PPTP), ERSPAN type I/II (0x88be; type I has no sequence number and no ERSPAN header) and type III
 * (0x22eb), WCCP redirection (0x883e, Cisco caches: the packet, after a 4-byte redirect header
 * unless it starts right away with an IPv4 header, as tshark tells them apart). Type 0 (keepalives,
 * an empty GRE) carries nothing. The flow entry is `gre` with the key
 * (version 0) or the call id (version 1) as id; ERSPAN is recorded as `erspan` instead.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u32be } from '../util/bytes.js';
import { decodeErspan, ERSPAN_TYPE_I, ERSPAN_TYPE_II, ERSPAN_TYPE_III } from './erspan.js';
import {
  ETHERTYPE_ERSPAN_II, ETHERTYPE_ERSPAN_III, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS_MC, ETHERTYPE_MPLS_UC,
  ETHERTYPE_PPP, ETHERTYPE_TEB,
} from './ethertype.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

export const GRE_MIN_HEADER_LEN = 4;
const GRE_FLAGS = 0;
const GRE_VERSION = 1;
const GRE_PROTOCOL = 2;
const GRE_FLAG_C = 0x80;
const GRE_FLAG_R = 0x40;
const GRE_FLAG_K = 0x20;
const GRE_FLAG_S = 0x10;
const GRE_FLAG_A = 0x80; // in the version byte
const GRE_VERSION_MASK = 0x07;
const GRE_OPTIONAL_FIELD_LEN = 4;
/** Version 1 key: payload length (2) then call id (2). */
const GRE_V1_CALL_ID = 2;
const SRE_HEADER_LEN = 4;
const SRE_LENGTH = 3;
/** Source route entries walked at most (RFC 1701 routing is long obsolete; bounded work). */
export const MAX_GRE_SRES = 16;
/** GRE protocol type of Cisco WCCP redirection, and its v2 redirect header. */
const ETHERTYPE_WCCP = 0x883e;
const WCCP_REDIRECT_HEADER_LEN = 4;
/** GRE protocol type of keepalives and empty packets: nothing inside. */
const GRE_PROTOCOL_NONE = 0;

/** The GRE header at `l4`: bytes up to `capEnd` readable, the IP datagram ends at `ipEnd`. */
export function decodeGre(out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number): void {
  if (capEnd - l4 < GRE_MIN_HEADER_LEN) {
    note(out, Anomaly.truncated_gre_header);
    return;
  }
  const flags = buf[l4 + GRE_FLAGS]!;
  const verByte = buf[l4 + GRE_VERSION]!;
  const version = verByte & GRE_VERSION_MASK;
  if (version > 1) {
    note(out, Anomaly.gre_bad_version);
    return;
  }
  let len = GRE_MIN_HEADER_LEN;
  if ((flags & (GRE_FLAG_C | GRE_FLAG_R)) !== 0) len += GRE_OPTIONAL_FIELD_LEN;
  const keyAt = l4 + len;
  const hasKey = (flags & GRE_FLAG_K) !== 0;
  if (hasKey) len += GRE_OPTIONAL_FIELD_LEN;
  const hasSeq = (flags & GRE_FLAG_S) !== 0;
  if (hasSeq) len += GRE_OPTIONAL_FIELD_LEN;
  if (version === 1 && (verByte & GRE_FLAG_A) !== 0) len += GRE_OPTIONAL_FIELD_LEN;
  if (capEnd - l4 < len) {
    note(out, Anomaly.truncated_gre_header);
    return;
  }
  if ((flags & GRE_FLAG_R) !== 0) {
    // RFC 1701 source routing: walk the entries to the terminating one.
    for (let n = 0; ; n++) {
      if (n === MAX_GRE_SRES) {
        note(out, Anomaly.gre_routing_too_long);
        return;
      }
      if (capEnd - l4 - len < SRE_HEADER_LEN) {
        note(out, Anomaly.truncated_gre_header);
        return;
      }
      const family = u16be(buf, l4 + len);
      const sreLen = buf[l4 + len + SRE_LENGTH]!;
      len += SRE_HEADER_LEN + sreLen;
      if (family === 0 && sreLen === 0) break;
    }
    if (capEnd - l4 < len) {
      note(out, Anomaly.truncated_gre_header);
      return;
    }
  }
  const id = !hasKey ? 0 : version === 1 ? u16be(buf, keyAt + GRE_V1_CALL_ID) : u32be(buf, keyAt);
  const inner = l4 + len;
  if (inner >= ipEnd) return; // a keepalive or an acknowledgment only: nothing inside
  let kind: number;
  switch (u16be(buf, l4 + GRE_PROTOCOL)) {
    case ETHERTYPE_IPV4:
      kind = InnerKind.Ipv4;
      break;
    case ETHERTYPE_IPV6:
      kind = InnerKind.Ipv6;
      break;
    case ETHERTYPE_TEB:
      kind = InnerKind.Ethernet;
      break;
    case ETHERTYPE_MPLS_UC:
    case ETHERTYPE_MPLS_MC:
      kind = InnerKind.Mpls;
      break;
    case ETHERTYPE_PPP:
      kind = InnerKind.Ppp;
      break;
    case ETHERTYPE_ERSPAN_II:
      // Type I has no sequence number and no ERSPAN header (tshark tells them apart the same way).
      decodeErspan(out, buf, inner, capEnd, ipEnd, hasSeq ? ERSPAN_TYPE_II : ERSPAN_TYPE_I);
      return;
    case ETHERTYPE_ERSPAN_III:
      decodeErspan(out, buf, inner, capEnd, ipEnd, ERSPAN_TYPE_III);
      return;
    case ETHERTYPE_WCCP: {
      // WCCPv2 adds a 4-byte redirect header; WCCPv1 does not (the IPv4 header follows at once).
      const skip = inner < capEnd && buf[inner]! >> 4 === 4 ? 0 : WCCP_REDIRECT_HEADER_LEN;
      openTunnel(out, TunnelType.GRE, id, hasKey, InnerKind.IpByVersion, inner + skip, capEnd, ipEnd);
      return;
    }
    case GRE_PROTOCOL_NONE:
      return;
    default:
      note(out, Anomaly.gre_unknown_protocol);
      return;
  }
  openTunnel(out, TunnelType.GRE, id, hasKey, kind, inner, capEnd, ipEnd);
}
