/**
 * IPv4 header (RFC 791 section 3.1): version/IHL (1), TOS (1), total length (2), identification (2),
 * flags/fragment offset (2), TTL (1), protocol (1), header checksum (2), source (4), destination (4),
 * options (IHL * 4 - 20).
 *
 * Checks, in order: 20 bytes captured, version 4, IHL >= 5, total length >= 20 and >= IHL * 4, the
 * whole header (with options) captured. Total length beyond the captured bytes is expected when the
 * capture cut the frame (snaplen); on a complete frame it is the tolerated anomaly
 * ipv4_total_len_gt_captured (tshark also goes on and dissects what is there). Bytes after the total
 * length (Ethernet padding, FCS) are not part of the datagram.
 *
 * A total length of 0 is what TCP segmentation offload hands to the capture on the sending host;
 * like tshark (ip.tso_support, on by default) the datagram is then taken to fill the frame.
 * The header checksum is not verified (offloaded checksums are routinely wrong in captures).
 */
import { Anomaly } from '../util/anomaly.js';
import { i32be, u16be } from '../util/bytes.js';
import { cut, malformed, note } from './status.js';
import { FragmentKind, type DecodedPacket } from './types.js';

export const IPV4_MIN_HEADER_LEN = 20;
const IPV4_VERSION_IHL = 0;
const IPV4_TOTAL_LEN = 2;
const IPV4_ID = 4;
const IPV4_FRAG = 6;
export const IPV4_PROTO = 9;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
const IPV4_FLAG_MF = 0x2000;
const IPV4_FRAG_OFFSET_MASK = 0x1fff;

/**
 * Decodes the IPv4 header at out.l3Offset. `frameEnd` is where the frame would end uncut (for a
 * zero total length). On success fills the IP fields, out.l4Offset and out.ipLength and returns
 * out.l4Offset; else -1.
 */
export function decodeIpv4(out: DecodedPacket, buf: Uint8Array, end: number, frameEnd: number): number {
  const off = out.l3Offset;
  const avail = end - off;
  if (avail < IPV4_MIN_HEADER_LEN) return cut(out, Anomaly.truncated_ipv4_header);
  const vihl = buf[off + IPV4_VERSION_IHL]!;
  if (vihl >> 4 !== 4) return malformed(out, Anomaly.ipv4_bad_version);
  const hlen = (vihl & 0x0f) << 2;
  if (hlen < IPV4_MIN_HEADER_LEN) return malformed(out, Anomaly.ipv4_ihl_too_small);
  let total = u16be(buf, off + IPV4_TOTAL_LEN);
  if (total === 0) total = frameEnd - off; // TSO: see the header comment
  if (total < IPV4_MIN_HEADER_LEN) return malformed(out, Anomaly.ipv4_total_len_too_small);
  if (total < hlen) return malformed(out, Anomaly.ipv4_ihl_gt_total_len);
  if (total > avail && !out.truncated) note(out, Anomaly.ipv4_total_len_gt_captured);
  if (hlen > avail) return cut(out, Anomaly.truncated_ipv4_header);

  out.ipVersion = 4;
  out.src3 = i32be(buf, off + IPV4_SRC);
  out.dst3 = i32be(buf, off + IPV4_DST);
  out.ipProto = buf[off + IPV4_PROTO]!;
  out.ipLength = total;
  const frag = u16be(buf, off + IPV4_FRAG);
  const fragOffset = (frag & IPV4_FRAG_OFFSET_MASK) << 3;
  if (fragOffset !== 0) out.fragment = FragmentKind.Later;
  else if ((frag & IPV4_FLAG_MF) !== 0) out.fragment = FragmentKind.First;
  out.fragOffset = fragOffset;
  out.fragId = u16be(buf, off + IPV4_ID);
  out.l4Offset = off + hlen;
  return out.l4Offset;
}
