/**
 * IPv6 (RFC 8200): fixed header (section 3) = version/traffic class/flow label (4), payload length
 * (2), next header (1), hop limit (1), source (16), destination (16); then a chain of extension
 * headers (section 4), each naming the next:
 * - Hop-by-Hop 0, Routing 43, Destination Options 60, Mobility 135 (RFC 6275), HIP 139 (RFC 7401),
 *   Shim6 140 (RFC 5533), experimental 253/254 (RFC 3692): next header (1), length in 8-byte units
 *   not counting the first 8 (1).
 * - Authentication Header 51 (RFC 4302 section 2): next header (1), length in 4-byte units minus 2.
 * - Fragment 44 (RFC 8200 section 4.5): next header (1), reserved (1), offset (13 bits, 8-byte
 *   units) / reserved (2) / M (1), identification (4): always 8 bytes. Offset 0 with M = 0 is an
 *   "atomic fragment" (RFC 6946): the packet is not fragmented and the chain goes on. A non-zero
 *   offset ends the walk: what follows is fragment data.
 * ESP 50 and No Next Header 59 end the chain like any upper-layer protocol.
 *
 * At most MAX_IPV6_EXT_HEADERS headers are walked (see types.ts for the value and why).
 * A payload length of 0 with a non-empty chain is a jumbogram (RFC 2675) or a segmentation-offload
 * capture; the datagram is then taken to fill the frame (as for an IPv4 total length of 0).
 * Routing headers are not followed: the addresses are those of the fixed header (tshark uses the
 * final destination of a type-0 routing header for its conversations).
 */
import { Anomaly } from '../util/anomaly.js';
import { i32be, u16be } from '../util/bytes.js';
import { cut, malformed, note } from './status.js';
import { DecodeStatus, FragmentKind, MAX_IPV6_EXT_HEADERS, type DecodedPacket } from './types.js';

export const IPV6_HEADER_LEN = 40;
const IPV6_PAYLOAD_LEN = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;

const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_NO_NEXT = 59;
const NH_DEST_OPTS = 60;
const NH_MOBILITY = 135;
const NH_HIP = 139;
const NH_SHIM6 = 140;
const NH_EXPERIMENT1 = 253;
const NH_EXPERIMENT2 = 254;

const EXT_NEXT = 0;
const EXT_LEN = 1;
/** Next header and length: what must be present to find the end of any extension header. */
const EXT_MIN_READ = 2;
const FRAG_HEADER_LEN = 8;
const FRAG_OFFSET = 2;
const FRAG_ID = 4;
const FRAG_OFFSET_MASK = 0xfff8;
const FRAG_M = 0x01;

/**
 * Result of walking an extension header chain, reused (one per decoder) so that the walk allocates
 * nothing. Used for the packet itself and for an IPv6 packet quoted in an ICMPv6 error.
 */
export class Ipv6ChainWalk {
  /** Upper-layer protocol (last next-header value), valid when status is Ok. */
  proto = 0;
  /** Offset of the upper-layer header, or of the fragment data for a later fragment. */
  offset = 0;
  fragment = 0;
  fragId = 0;
  fragOffset = 0;
  /** DecodeStatus.Ok, Truncated or Malformed. */
  status = 0;
  anomaly = 0;
}

/**
 * Walks the chain that starts at `off` with next-header value `nh`. Bytes up to `capEnd` may be
 * read; `declEnd` is where the datagram ends per its payload length (>= capEnd when the capture cut
 * the frame). `truncated`: the frame was snaplen-cut. Returns false when the walk failed
 * (w.status/w.anomaly say why).
 */
export function walkIpv6Chain(
  w: Ipv6ChainWalk, buf: Uint8Array, off: number, capEnd: number, declEnd: number, nh: number, truncated: boolean,
): boolean {
  w.fragment = FragmentKind.None;
  w.fragId = 0;
  w.fragOffset = 0;
  w.status = DecodeStatus.Ok;
  w.anomaly = 0;
  for (let count = 0; ; count++) {
    let len: number;
    switch (nh) {
      case NH_HOP_BY_HOP:
      case NH_ROUTING:
      case NH_DEST_OPTS:
      case NH_MOBILITY:
      case NH_HIP:
      case NH_SHIM6:
      case NH_EXPERIMENT1:
      case NH_EXPERIMENT2:
      case NH_AH:
      case NH_FRAGMENT:
        break;
      default:
        // Upper-layer protocol (or ESP / No Next Header): the chain ends here.
        w.proto = nh;
        w.offset = off;
        return true;
    }
    if (count === MAX_IPV6_EXT_HEADERS) return chainFailed(w, DecodeStatus.Malformed, Anomaly.ipv6_ext_header_chain_too_long);
    const need = nh === NH_FRAGMENT ? FRAG_HEADER_LEN : EXT_MIN_READ;
    if (declEnd - off < need) return chainFailed(w, DecodeStatus.Malformed, Anomaly.truncated_ipv6_ext_header);
    if (capEnd - off < need) return chainCut(w, truncated);
    if (nh === NH_FRAGMENT) {
      len = FRAG_HEADER_LEN;
      const fo = u16be(buf, off + FRAG_OFFSET);
      const offset = fo & FRAG_OFFSET_MASK;
      if (offset !== 0 || (fo & FRAG_M) !== 0) {
        // A real fragment (not atomic): the first non-atomic Fragment header decides.
        if (w.fragment === FragmentKind.None) {
          w.fragId = i32be(buf, off + FRAG_ID);
          w.fragOffset = offset;
          w.fragment = offset !== 0 ? FragmentKind.Later : FragmentKind.First;
        }
        if (offset !== 0) {
          w.proto = buf[off + EXT_NEXT]!;
          w.offset = off + FRAG_HEADER_LEN;
          return true;
        }
      }
    } else if (nh === NH_AH) {
      len = (buf[off + EXT_LEN]! + 2) << 2;
    } else {
      len = (buf[off + EXT_LEN]! + 1) << 3;
    }
    if (declEnd - off < len) return chainFailed(w, DecodeStatus.Malformed, Anomaly.truncated_ipv6_ext_header);
    nh = buf[off + EXT_NEXT]!;
    off += len;
  }
}

function chainFailed(w: Ipv6ChainWalk, status: number, anomaly: number): boolean {
  w.status = status;
  w.anomaly = anomaly;
  return false;
}

function chainCut(w: Ipv6ChainWalk, truncated: boolean): boolean {
  return chainFailed(w, truncated ? DecodeStatus.Truncated : DecodeStatus.Malformed, Anomaly.truncated_ipv6_ext_header);
}

/**
 * Decodes the IPv6 header and extension chain at out.l3Offset (see decodeIpv4 for the contract).
 * `w` is the decoder's reusable walk record.
 */
export function decodeIpv6(out: DecodedPacket, buf: Uint8Array, end: number, frameEnd: number, w: Ipv6ChainWalk): number {
  const off = out.l3Offset;
  const avail = end - off;
  if (avail < IPV6_HEADER_LEN) return cut(out, Anomaly.truncated_ipv6_header);
  if (buf[off]! >> 4 !== 6) return malformed(out, Anomaly.ipv6_bad_version);
  const nh = buf[off + IPV6_NEXT_HEADER]!;
  let total = IPV6_HEADER_LEN + u16be(buf, off + IPV6_PAYLOAD_LEN);
  // Jumbogram / offload: see the header comment. An empty payload is legitimate only with No Next Header.
  if (total === IPV6_HEADER_LEN && nh !== NH_NO_NEXT && frameEnd - off > IPV6_HEADER_LEN) total = frameEnd - off;
  if (total > avail && !out.truncated) note(out, Anomaly.ipv6_payload_len_gt_captured);
  const declEnd = off + total;
  const capEnd = end < declEnd ? end : declEnd;
  if (!walkIpv6Chain(w, buf, off + IPV6_HEADER_LEN, capEnd, declEnd, nh, out.truncated)) {
    out.status = w.status;
    if (out.anomaly === 0) out.anomaly = w.anomaly;
    return -1;
  }

  out.ipVersion = 6;
  out.src0 = i32be(buf, off + IPV6_SRC);
  out.src1 = i32be(buf, off + IPV6_SRC + 4);
  out.src2 = i32be(buf, off + IPV6_SRC + 8);
  out.src3 = i32be(buf, off + IPV6_SRC + 12);
  out.dst0 = i32be(buf, off + IPV6_DST);
  out.dst1 = i32be(buf, off + IPV6_DST + 4);
  out.dst2 = i32be(buf, off + IPV6_DST + 8);
  out.dst3 = i32be(buf, off + IPV6_DST + 12);
  out.ipProto = w.proto;
  out.ipLength = total;
  out.fragment = w.fragment;
  out.fragId = w.fragId;
  out.fragOffset = w.fragOffset;
  out.l4Offset = w.offset;
  return w.offset;
}
