/**
 * UDP header (RFC 768): source port (2), destination port (2), length (2, header + data), checksum
 * (2, not verified) = 8 bytes.
 *
 * Checks: the datagram (IP payload) holds 8 bytes, 8 bytes are captured, length >= 8
 * (udp_length_too_small, Malformed: tshark stops there too). A length beyond the IP payload is
 * udp_length_gt_ip_payload, tolerated like tshark does (it flags "bad length" but still dissects the
 * ports and counts the conversation): payloadLength follows the UDP length, payloadCaptured stops
 * at the end of the IP datagram. In a first fragment
 * the length covers the whole reassembled datagram, so it is not compared, and payloadLength is
 * the fragment's own data (later fragments add theirs). A length shorter than
 * the IP payload leaves the extra bytes out of the payload. Length 0 over IPv6 is a jumbogram
 * (RFC 2675): the IP payload length counts. A first fragment shorter than the header is
 * ip_fragment_too_small_for_ports.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { setPayload } from './payload.js';
import { cut, malformed, note } from './status.js';
import { FragmentKind, type DecodedPacket } from './types.js';

export const UDP_HEADER_LEN = 8;
const UDP_SPORT = 0;
const UDP_DPORT = 2;
const UDP_LENGTH = 4;

/** Decodes the UDP header at `l4` (arguments as decodeTcp). */
export function decodeUdp(out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number): void {
  const seg = ipEnd - l4;
  const first = out.fragment === FragmentKind.First;
  if (seg < UDP_HEADER_LEN) {
    malformed(out, first ? Anomaly.ip_fragment_too_small_for_ports : Anomaly.truncated_udp_header);
    return;
  }
  if (capEnd - l4 < UDP_HEADER_LEN) {
    cut(out, Anomaly.truncated_udp_header);
    return;
  }
  let length = u16be(buf, l4 + UDP_LENGTH);
  if (length === 0 && out.ipVersion === 6) length = seg;
  if (length < UDP_HEADER_LEN) {
    malformed(out, Anomaly.udp_length_too_small);
    return;
  }
  if (length > seg && !first) note(out, Anomaly.udp_length_gt_ip_payload);
  out.srcPort = u16be(buf, l4 + UDP_SPORT);
  out.dstPort = u16be(buf, l4 + UDP_DPORT);
  out.hasPorts = true;
  const udpEnd = l4 + length;
  // A first fragment carries only part of the datagram: count its own bytes, the later fragments
  // add theirs, so a flow's payload total is the datagram's payload whatever the fragmentation.
  setPayload(out, l4 + UDP_HEADER_LEN, udpEnd < capEnd ? udpEnd : capEnd, first ? seg - UDP_HEADER_LEN : length - UDP_HEADER_LEN);
}
