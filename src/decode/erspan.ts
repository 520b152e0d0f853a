/**
 * ERSPAN, the mirrored-frame encapsulation of Cisco switches (draft-foschiano-erspan-03), in GRE:
 * - type I (GRE protocol 0x88be without a sequence number): no ERSPAN header, the mirrored
 *   Ethernet frame follows the GRE header;
 * - type II (0x88be with a sequence number, section 4.1): version (4 bits, 1), VLAN (12), COS (3),
 *   encapsulation type (2), truncated (1), session id (10), reserved (12), index (20) = 8 bytes;
 * - type III (0x22eb, section 4.2): version (4 bits, 2), VLAN (12), COS (3), BSO (2), T (1),
 *   session id (10), timestamp (4), SGT (2), P (1), frame type (5 bits: 0 Ethernet, 2 IP),
 *   hardware id (6), direction (1), granularity (2), O (1) = 12 bytes, plus an 8-byte
 *   platform-specific subheader when O is set.
 * The entry is `erspan` with the session id (type I: none).
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

export const ERSPAN_TYPE_I = 1;
export const ERSPAN_TYPE_II = 2;
export const ERSPAN_TYPE_III = 3;

export const ERSPAN_II_HEADER_LEN = 8;
export const ERSPAN_III_HEADER_LEN = 12;
const ERSPAN_III_SUBHEADER_LEN = 8;
/** Version field values (first 4 bits) of type II and type III headers. */
const ERSPAN_II_VERSION = 1;
const ERSPAN_III_VERSION = 2;
const ERSPAN_SESSION = 2;
const ERSPAN_SESSION_MASK = 0x03ff;
const ERSPAN_III_FT_O = 11;
const ERSPAN_III_FT_BYTE = 10;
const ERSPAN_III_FLAG_O = 0x01;
const ERSPAN_III_FT_SHIFT = 2;
const ERSPAN_III_FT_MASK = 0x1f;
const ERSPAN_FRAME_ETHERNET = 0;
const ERSPAN_FRAME_IP = 2;

/** The ERSPAN header of `type` at `off` (arguments as decodeVxlan). */
export function decodeErspan(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number, type: number): void {
  if (type === ERSPAN_TYPE_I) {
    openTunnel(out, TunnelType.ERSPAN, 0, false, InnerKind.Ethernet, off, capEnd, declEnd);
    return;
  }
  let len = type === ERSPAN_TYPE_II ? ERSPAN_II_HEADER_LEN : ERSPAN_III_HEADER_LEN;
  if (capEnd - off < len) {
    note(out, Anomaly.truncated_erspan_header);
    return;
  }
  if (buf[off]! >> 4 !== (type === ERSPAN_TYPE_II ? ERSPAN_II_VERSION : ERSPAN_III_VERSION)) {
    note(out, Anomaly.erspan_bad_version);
    return;
  }
  let kind: number = InnerKind.Ethernet;
  if (type === ERSPAN_TYPE_III) {
    if ((buf[off + ERSPAN_III_FT_O]! & ERSPAN_III_FLAG_O) !== 0) len += ERSPAN_III_SUBHEADER_LEN;
    if (capEnd - off < len) {
      note(out, Anomaly.truncated_erspan_header);
      return;
    }
    const ft = (buf[off + ERSPAN_III_FT_BYTE]! >> ERSPAN_III_FT_SHIFT) & ERSPAN_III_FT_MASK;
    if (ft === ERSPAN_FRAME_IP) kind = InnerKind.IpByVersion;
    else if (ft !== ERSPAN_FRAME_ETHERNET) {
      note(out, Anomaly.erspan_bad_version);
      return;
    }
  }
  const session = u16be(buf, off + ERSPAN_SESSION) & ERSPAN_SESSION_MASK;
  openTunnel(out, TunnelType.ERSPAN, session, true, kind, off + len, capEnd, declEnd);
}
