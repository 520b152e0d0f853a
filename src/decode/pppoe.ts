/**
 * PPPoE session stage (RFC 2516 section 4.4; EtherType 0x8864): version (4 bits, 1) and type (4
 * bits, 1), code (1, 0x00 for session data), session id (2), length (2, of the PPP payload), then
 * the PPP protocol field (no address/control bytes; 2 bytes, or 1 when the peers negotiated
 * protocol-field compression, which RFC 2516 discourages but real sessions use: suricata-verify's
 * bug-4810 trace). Over plain, 802.1Q and QinQ Ethernet alike:
 * the VLAN tags are decoded before. The session id is the entry's id and part of the flow key (both
 * directions of a session share it). Discovery frames (0x8863) are counted as pppoe_discovery.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { decodePppProtocol } from './ppp.js';
import { cut, notIp } from './status.js';
import { pushLinkEncapsulation, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

/** PPPoE header (6). */
export const PPPOE_HEADER_LEN = 6;
const PPPOE_VER_TYPE = 0;
const PPPOE_CODE = 1;
const PPPOE_SESSION = 2;
const PPPOE_VER_TYPE_1_1 = 0x11;
const PPPOE_CODE_SESSION = 0x00;

/** The PPPoE session header at out.l3Offset. Returns the EtherType of its payload or -1. */
export function decodePppoe(out: DecodedPacket, buf: Uint8Array, end: number): number {
  const off = out.l3Offset;
  // The header and at least the first byte of the PPP protocol field.
  if (end - off < PPPOE_HEADER_LEN + 1) return cut(out, Anomaly.truncated_pppoe_header);
  if (buf[off + PPPOE_VER_TYPE] !== PPPOE_VER_TYPE_1_1 || buf[off + PPPOE_CODE] !== PPPOE_CODE_SESSION) {
    return notIp(out, Anomaly.pppoe_bad_header);
  }
  if (!pushLinkEncapsulation(out, buf, TunnelType.PPPOE, u16be(buf, off + PPPOE_SESSION))) return -1;
  out.l3Offset = off + PPPOE_HEADER_LEN;
  return decodePppProtocol(out, buf, end);
}
