/**
 * GTP-U, the user plane of GPRS/UMTS/LTE/5G (3GPP TS 29.281 section 5), on UDP port 2152: flags
 * (1: version 3 bits = 1, PT = 1, reserved, E, S, PN), message type (1), length (2, of everything
 * after the first 8 bytes), TEID (4); when any of E, S, PN is set, sequence number (2), N-PDU
 * number (1) and next extension header type (1); then extension headers while that type is not 0,
 * each of length (1, in 4-byte units, covering the whole header), contents, next type (its last
 * byte). Only a G-PDU (message type 255) carries a user packet (T-PDU), IPv4 or IPv6 by its version
 * nibble; echo requests, error indications and end markers carry none. The TEID is the entry's id;
 * it differs per direction, so it is not part of the flow key.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u32be } from '../util/bytes.js';
import { note } from './status.js';
import { InnerKind, openTunnel, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

export const GTPU_HEADER_LEN = 8;
const GTPU_FLAGS = 0;
const GTPU_TYPE = 1;
const GTPU_LENGTH = 2;
const GTPU_TEID = 4;
const GTPU_OPTIONAL_LEN = 4;
const GTPU_NEXT_EXT = 11;
const GTPU_VERSION_PT_MASK = 0xf0;
const GTPU_V1_PT1 = 0x30;
const GTPU_FLAG_E = 0x04;
const GTPU_OPTIONAL_FLAGS = 0x07;
const GTPU_G_PDU = 0xff;
const EXT_UNIT = 4;

/** The GTP-U header at `off` (arguments as decodeVxlan). */
export function decodeGtpU(out: DecodedPacket, buf: Uint8Array, off: number, capEnd: number, declEnd: number): void {
  if (capEnd - off < GTPU_HEADER_LEN) {
    note(out, Anomaly.truncated_gtpu_header);
    return;
  }
  const flags = buf[off + GTPU_FLAGS]!;
  if ((flags & GTPU_VERSION_PT_MASK) !== GTPU_V1_PT1) {
    note(out, Anomaly.gtpu_bad_version);
    return;
  }
  if (buf[off + GTPU_TYPE] !== GTPU_G_PDU) return; // signalling: no user packet inside
  // The message ends where its length says (UDP padding after it is not part of the T-PDU).
  const msgEnd = off + GTPU_HEADER_LEN + u16be(buf, off + GTPU_LENGTH);
  const end = msgEnd < declEnd ? msgEnd : declEnd;
  let p = off + GTPU_HEADER_LEN;
  if ((flags & GTPU_OPTIONAL_FLAGS) !== 0) {
    p += GTPU_OPTIONAL_LEN;
    if (p > end) {
      note(out, Anomaly.gtpu_bad_extension);
      return;
    }
    if (p > capEnd) {
      note(out, Anomaly.truncated_gtpu_header);
      return;
    }
    if ((flags & GTPU_FLAG_E) !== 0) {
      // Each extension is at least 4 bytes long, so the walk ends within the message.
      for (let next = buf[off + GTPU_NEXT_EXT]!; next !== 0; ) {
        if (p >= capEnd) {
          note(out, p >= end ? Anomaly.gtpu_bad_extension : Anomaly.truncated_gtpu_header);
          return;
        }
        const len = buf[p]! * EXT_UNIT;
        if (len === 0 || p + len > end) {
          note(out, Anomaly.gtpu_bad_extension);
          return;
        }
        if (p + len > capEnd) {
          note(out, Anomaly.truncated_gtpu_header);
          return;
        }
        next = buf[p + len - 1]!;
        p += len;
      }
    }
  }
  // 5G Ethernet and unstructured PDU sessions carry no IP: the packet stays in the UDP flow.
  const v = p < capEnd && p < end ? buf[p]! >> 4 : 0;
  if (v !== 4 && v !== 6) {
    note(out, p < end && p >= capEnd ? Anomaly.truncated_gtpu_header : Anomaly.gtpu_unknown_payload);
    return;
  }
  openTunnel(out, TunnelType.GTP_U, u32be(buf, off + GTPU_TEID), true, v === 4 ? InnerKind.Ipv4 : InnerKind.Ipv6, p, capEnd, end);
}
