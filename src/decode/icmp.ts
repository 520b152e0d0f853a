/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443 section 2.1): type (1), code (1), checksum (2), then 4 bytes
 * whose meaning depends on the type; every message has this 8-byte header.
 * - Query messages: echo request/reply (ICMP 8/0, RFC 792; ICMPv6 128/129, RFC 4443 section 4),
 *   timestamp (13/14) and information (15/16) request/reply (RFC 792), address mask request/reply
 *   (17/18, RFC 950): identifier (2) and sequence (2). The identifier pairs requests with replies,
 *   so it stands in for both ports (icmpQueryKind() is the one list of these types; the flow table
 *   uses it to tell the requester from the responder).
 * - Any other type: the "ports" are type (source) and code (destination).
 * - Error messages (ICMP 3, 4, 5, 11, 12; ICMPv6 1, 2, 3, 4) quote the offending packet after the
 *   header: its IP header and at least the first 8 bytes of its transport header. The quote is
 *   decoded into the quoted* fields as the original packet had it (best effort, no anomaly: routers
 *   may quote little).
 * The checksum is not verified.
 */
import { Anomaly } from '../util/anomaly.js';
import { IpProto } from '../util/ip-proto.js';
import { i32be, u16be } from '../util/bytes.js';
import { walkIpv6Chain, IPV6_HEADER_LEN, type Ipv6ChainWalk } from './ipv6.js';
import { setPayload, PORTS_LEN } from './payload.js';
import { cut, malformed } from './status.js';
import type { DecodedPacket } from './types.js';

export const ICMP_HEADER_LEN = 8;
const ICMP_TYPE = 0;
const ICMP_CODE = 1;
/** Identifier of a query message (echo, timestamp, ...). */
const ICMP_QUERY_ID = 4;

const ICMP_ECHO_REPLY = 0;
const ICMP_DEST_UNREACH = 3;
const ICMP_SOURCE_QUENCH = 4;
const ICMP_REDIRECT = 5;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_PARAM_PROBLEM = 12;
const ICMP_TIMESTAMP_REQUEST = 13;
const ICMP_TIMESTAMP_REPLY = 14;
const ICMP_INFO_REQUEST = 15;
const ICMP_INFO_REPLY = 16;
const ICMP_ADDRESS_MASK_REQUEST = 17;
const ICMP_ADDRESS_MASK_REPLY = 18;

// ICMPv6 error types are 1 (destination unreachable), 2 (packet too big), 3 (time exceeded) and
// 4 (parameter problem): a contiguous range.
const ICMPV6_DEST_UNREACH = 1;
const ICMPV6_PARAM_PROBLEM = 4;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

/** What icmpQueryKind() says about a message type. */
export const IcmpQuery = {
  /** Not a query: an error or an informational message without an identifier. */
  None: 0,
  /** Sent by the side that asks (the flow's client). */
  Request: 1,
  /** Sent by the side that answers (the flow's server). */
  Reply: 2,
} as const;

/**
 * Whether an ICMP (v6 = false) or ICMPv6 (v6 = true) message type is a request or reply of a query
 * pair that carries an identifier (see the file comment). Requests and replies of one query share
 * a flow keyed by that identifier.
 */
export function icmpQueryKind(v6: boolean, type: number): number {
  if (v6) return type === ICMPV6_ECHO_REQUEST ? IcmpQuery.Request : type === ICMPV6_ECHO_REPLY ? IcmpQuery.Reply : IcmpQuery.None;
  switch (type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_TIMESTAMP_REQUEST:
    case ICMP_INFO_REQUEST:
    case ICMP_ADDRESS_MASK_REQUEST:
      return IcmpQuery.Request;
    case ICMP_ECHO_REPLY:
    case ICMP_TIMESTAMP_REPLY:
    case ICMP_INFO_REPLY:
    case ICMP_ADDRESS_MASK_REPLY:
      return IcmpQuery.Reply;
    default:
      return IcmpQuery.None;
  }
}

// Quoted IPv4 header fields (RFC 791).
const QIP4_MIN_LEN = 20;
const QIP4_FRAG = 6;
const QIP4_PROTO = 9;
const QIP4_SRC = 12;
const QIP4_DST = 16;
const QIP4_FRAG_OFFSET_MASK = 0x1fff;
// Quoted IPv6 header fields (RFC 8200).
const QIP6_NEXT_HEADER = 6;
const QIP6_SRC = 8;
const QIP6_DST = 24;

function isError(v6: boolean, type: number): boolean {
  if (v6) return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAM_PROBLEM;
  switch (type) {
    case ICMP_DEST_UNREACH:
    case ICMP_SOURCE_QUENCH:
    case ICMP_REDIRECT:
    case ICMP_TIME_EXCEEDED:
    case ICMP_PARAM_PROBLEM:
      return true;
    default:
      return false;
  }
}

/**
 * Decodes an ICMP (v6 = false, IP protocol 1) or ICMPv6 (v6 = true, 58) header at `l4` (arguments
 * as decodeTcp; `w` is the decoder's reusable IPv6 chain walk, for IPv6 quotes).
 */
export function decodeIcmp(
  out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number, v6: boolean, w: Ipv6ChainWalk,
): void {
  const seg = ipEnd - l4;
  const anomaly = v6 ? Anomaly.truncated_icmpv6_header : Anomaly.truncated_icmp_header;
  if (seg < ICMP_HEADER_LEN) {
    malformed(out, anomaly);
    return;
  }
  if (capEnd - l4 < ICMP_HEADER_LEN) {
    cut(out, anomaly);
    return;
  }
  const type = buf[l4 + ICMP_TYPE]!;
  const code = buf[l4 + ICMP_CODE]!;
  out.icmpType = type;
  out.icmpCode = code;
  out.hasPorts = true;
  if (icmpQueryKind(v6, type) !== IcmpQuery.None) {
    out.srcPort = out.dstPort = u16be(buf, l4 + ICMP_QUERY_ID);
  } else {
    out.srcPort = type;
    out.dstPort = code;
    if (isError(v6, type)) {
      if (v6) decodeQuotedIpv6(out, buf, l4 + ICMP_HEADER_LEN, capEnd, w);
      else decodeQuotedIpv4(out, buf, l4 + ICMP_HEADER_LEN, capEnd);
    }
  }
  setPayload(out, l4 + ICMP_HEADER_LEN, capEnd, seg - ICMP_HEADER_LEN);
}

/** The quote's IPv4 header at `q`, readable up to `end`. Its total length is not checked (it describes the original, not the quote). */
function decodeQuotedIpv4(out: DecodedPacket, buf: Uint8Array, q: number, end: number): void {
  if (end - q < QIP4_MIN_LEN) return;
  const vihl = buf[q]!;
  const hlen = (vihl & 0x0f) << 2;
  if (vihl >> 4 !== 4 || hlen < QIP4_MIN_LEN) return;
  out.quotedProto = buf[q + QIP4_PROTO]!;
  out.quotedSrc3 = i32be(buf, q + QIP4_SRC);
  out.quotedDst3 = i32be(buf, q + QIP4_DST);
  // A later fragment carries no transport header.
  if ((u16be(buf, q + QIP4_FRAG) & QIP4_FRAG_OFFSET_MASK) !== 0) return;
  decodeQuotedPorts(out, buf, q + hlen, end);
}

/** The quote's IPv6 header and extension chain at `q`, readable up to `end`. */
function decodeQuotedIpv6(out: DecodedPacket, buf: Uint8Array, q: number, end: number, w: Ipv6ChainWalk): void {
  if (end - q < IPV6_HEADER_LEN || buf[q]! >> 4 !== 6) return;
  out.quotedSrc0 = i32be(buf, q + QIP6_SRC);
  out.quotedSrc1 = i32be(buf, q + QIP6_SRC + 4);
  out.quotedSrc2 = i32be(buf, q + QIP6_SRC + 8);
  out.quotedSrc3 = i32be(buf, q + QIP6_SRC + 12);
  out.quotedDst0 = i32be(buf, q + QIP6_DST);
  out.quotedDst1 = i32be(buf, q + QIP6_DST + 4);
  out.quotedDst2 = i32be(buf, q + QIP6_DST + 8);
  out.quotedDst3 = i32be(buf, q + QIP6_DST + 12);
  // The quote ends where the capture or the ICMPv6 message ends, whatever its payload length says.
  if (!walkIpv6Chain(w, buf, q + IPV6_HEADER_LEN, end, end, buf[q + QIP6_NEXT_HEADER]!, false)) return;
  out.quotedProto = w.proto;
  if (w.fragOffset !== 0) return;
  decodeQuotedPorts(out, buf, w.offset, end);
}

/** Ports of the quoted transport header at `t` (ICMP query: identifier; other ICMP: type/code). */
function decodeQuotedPorts(out: DecodedPacket, buf: Uint8Array, t: number, end: number): void {
  switch (out.quotedProto) {
    case IpProto.TCP:
    case IpProto.UDP:
    case IpProto.SCTP:
      if (end - t < PORTS_LEN) return;
      out.quotedSrcPort = u16be(buf, t);
      out.quotedDstPort = u16be(buf, t + 2);
      break;
    case IpProto.ICMP:
    case IpProto.ICMPV6: {
      if (end - t < ICMP_HEADER_LEN) return;
      const type = buf[t + ICMP_TYPE]!;
      if (icmpQueryKind(out.quotedProto === IpProto.ICMPV6, type) !== IcmpQuery.None) {
        out.quotedSrcPort = out.quotedDstPort = u16be(buf, t + ICMP_QUERY_ID);
      } else {
        out.quotedSrcPort = type;
        out.quotedDstPort = buf[t + ICMP_CODE]!;
      }
      break;
    }
    default:
      return;
  }
  out.quotedValid = true;
}
