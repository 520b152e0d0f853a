/**
 * PPP frames as tunnels carry them (RFC 1661 section 2; RFC 1662 section 3.1 for the HDLC-like
 * address and control fields): optional address 0xff and control 0x03 (absent with
 * address-and-control-field compression), then the protocol field, one byte when its low bit is
 * set (protocol-field compression), else two. 0x0021 is IPv4 (RFC 1332), 0x0057 IPv6 (RFC 5072);
 * anything else (LCP, IPCP, CCP, compressed or MPPE-encrypted data, ...) is not a flow packet:
 * ppp_non_ip_protocol.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethertype.js';
import { cut, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

const PPP_ADDRESS = 0xff;
const PPP_CONTROL = 0x03;
export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;

/** Maps a PPP protocol number to the EtherType portsniff decodes, or -1 (ppp_non_ip_protocol). */
function pppProtocolToEtherType(out: DecodedPacket, protocol: number): number {
  if (protocol === PPP_IPV4) return ETHERTYPE_IPV4;
  if (protocol === PPP_IPV6) return ETHERTYPE_IPV6;
  return notIp(out, Anomaly.ppp_non_ip_protocol);
}

/** The PPP frame at out.l3Offset. Returns the EtherType of its payload (out.l3Offset moved) or -1. */
export function decodePpp(out: DecodedPacket, buf: Uint8Array, end: number): number {
  let off = out.l3Offset;
  if (end - off < 2) return cut(out, Anomaly.truncated_ppp_header);
  if (buf[off] === PPP_ADDRESS && buf[off + 1] === PPP_CONTROL) {
    off += 2;
    if (end - off < 1) return cut(out, Anomaly.truncated_ppp_header);
  }
  out.l3Offset = off;
  return decodePppProtocol(out, buf, end);
}

/**
 * The protocol field at out.l3Offset (one byte when compressed: its low bit set). Returns the
 * EtherType of the payload (out.l3Offset moved past the field) or -1.
 */
export function decodePppProtocol(out: DecodedPacket, buf: Uint8Array, end: number): number {
  const off = out.l3Offset;
  let protocol: number;
  if ((buf[off]! & 1) !== 0) {
    protocol = buf[off]!;
    out.l3Offset = off + 1;
  } else {
    if (end - off < 2) return cut(out, Anomaly.truncated_ppp_header);
    protocol = u16be(buf, off);
    out.l3Offset = off + 2;
  }
  return pppProtocolToEtherType(out, protocol);
}
