/**
 * TCP header (RFC 9293 section 3.1): source port (2), destination port (2), sequence number (4),
 * acknowledgment number (4), data offset (4 bits) / reserved (4 bits), flags (1: CWR ECE URG ACK
 * PSH RST SYN FIN), window (2), checksum (2), urgent pointer (2), options (data offset * 4 - 20).
 *
 * Checks: the segment (IP payload) holds 20 bytes, 20 bytes are captured, data offset >= 5
 * (tcp_data_offset_too_small), data offset * 4 <= segment length (tcp_data_offset_gt_segment).
 * Options cut by the capture are fine (the fixed 20 bytes carry everything a flow needs; tshark
 * would leave such a frame out of its conversations); the payload then has 0 captured bytes.
 * A first fragment that does not hold the whole header with options is
 * ip_fragment_too_small_for_ports (RFC 1858 tiny fragment; tshark does not count it either).
 * The checksum is not verified.
 */
import { Anomaly } from '../util/anomaly.js';
import { i32be, u16be } from '../util/bytes.js';
import { setPayload } from './payload.js';
import { cut, malformed } from './status.js';
import { FragmentKind, type DecodedPacket } from './types.js';

export const TCP_MIN_HEADER_LEN = 20;
const TCP_SPORT = 0;
const TCP_DPORT = 2;
const TCP_SEQ = 4;
const TCP_ACK = 8;
const TCP_DATA_OFFSET = 12;
const TCP_FLAGS = 13;

/** Decodes the TCP header at `l4`; bytes up to `capEnd` are readable, the IP datagram ends at `ipEnd`. */
export function decodeTcp(out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number): void {
  const seg = ipEnd - l4;
  const first = out.fragment === FragmentKind.First;
  if (seg < TCP_MIN_HEADER_LEN) {
    malformed(out, first ? Anomaly.ip_fragment_too_small_for_ports : Anomaly.truncated_tcp_header);
    return;
  }
  if (capEnd - l4 < TCP_MIN_HEADER_LEN) {
    cut(out, Anomaly.truncated_tcp_header);
    return;
  }
  const hlen = (buf[l4 + TCP_DATA_OFFSET]! >> 4) << 2;
  if (hlen < TCP_MIN_HEADER_LEN) {
    malformed(out, Anomaly.tcp_data_offset_too_small);
    return;
  }
  if (hlen > seg) {
    malformed(out, first ? Anomaly.ip_fragment_too_small_for_ports : Anomaly.tcp_data_offset_gt_segment);
    return;
  }
  out.srcPort = u16be(buf, l4 + TCP_SPORT);
  out.dstPort = u16be(buf, l4 + TCP_DPORT);
  out.hasPorts = true;
  out.tcpSeq = i32be(buf, l4 + TCP_SEQ);
  out.tcpAck = i32be(buf, l4 + TCP_ACK);
  out.tcpFlags = buf[l4 + TCP_FLAGS]!;
  setPayload(out, l4 + hlen, capEnd, seg - hlen);
}
