/**
 * IEEE 802.2 LLC with a SNAP header (IEEE Std 802-2014 clause 10; RFC 1042 for IP over IEEE 802
 * networks): DSAP 0xAA, SSAP 0xAA, control 0x03 (UI), OUI (3), EtherType (2). Used by 802.3
 * length-framed Ethernet and by 802.11 data frames. OUI 00-00-00 (RFC 1042) and 00-00-F8
 * (IEEE 802.1H bridge tunnel) carry an EtherType; any other LLC (STP, CDP, ...) is not IP.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { cut, notIp } from './status.js';
import type { DecodedPacket } from './types.js';

export const LLC_SNAP_LEN = 8;
const LLC_SAP_SNAP = 0xaa;
const LLC_CONTROL_UI = 0x03;
const SNAP_OUI_BRIDGE_TUNNEL = 0xf8;
const SNAP_TYPE = 6;
/** DSAP, SSAP and control: enough to tell SNAP from other LLC payloads. */
const LLC_HEADER_LEN = 3;

/** Returns the SNAP EtherType (out.l3Offset = after the SNAP header) or -1. */
export function decodeLlcSnap(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < LLC_HEADER_LEN) return cut(out, Anomaly.truncated_link_header);
  if (buf[off] !== LLC_SAP_SNAP || buf[off + 1] !== LLC_SAP_SNAP || buf[off + 2] !== LLC_CONTROL_UI) {
    return notIp(out, Anomaly.non_ip_ethertype);
  }
  if (end - off < LLC_SNAP_LEN) return cut(out, Anomaly.truncated_link_header);
  const oui2 = buf[off + 5]!;
  if (buf[off + 3] !== 0 || buf[off + 4] !== 0 || (oui2 !== 0 && oui2 !== SNAP_OUI_BRIDGE_TUNNEL)) {
    return notIp(out, Anomaly.non_ip_ethertype);
  }
  out.l3Offset = off + LLC_SNAP_LEN;
  return u16be(buf, off + SNAP_TYPE);
}
