/**
 * SCTP common header (RFC 9260 section 3.1): source port (2), destination port (2), verification
 * tag (4), checksum (4, CRC32c, not verified) = 12 bytes; the chunks that follow are the payload.
 * A first fragment shorter than the header is ip_fragment_too_small_for_ports.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { setPayload } from './payload.js';
import { cut, malformed } from './status.js';
import { FragmentKind, type DecodedPacket } from './types.js';

export const SCTP_HEADER_LEN = 12;
const SCTP_SPORT = 0;
const SCTP_DPORT = 2;

/** Decodes the SCTP common header at `l4` (arguments as decodeTcp). */
export function decodeSctp(out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number): void {
  const seg = ipEnd - l4;
  if (seg < SCTP_HEADER_LEN) {
    malformed(out, out.fragment === FragmentKind.First ? Anomaly.ip_fragment_too_small_for_ports : Anomaly.truncated_sctp_header);
    return;
  }
  if (capEnd - l4 < SCTP_HEADER_LEN) {
    cut(out, Anomaly.truncated_sctp_header);
    return;
  }
  out.srcPort = u16be(buf, l4 + SCTP_SPORT);
  out.dstPort = u16be(buf, l4 + SCTP_DPORT);
  out.hasPorts = true;
  setPayload(out, l4 + SCTP_HEADER_LEN, capEnd, seg - SCTP_HEADER_LEN);
}
