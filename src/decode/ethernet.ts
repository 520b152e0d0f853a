/**
 * Ethernet II / IEEE 802.3 MAC header (IEEE Std 802.3-2022 clause 3.2.6; LINKTYPE_ETHERNET = 1):
 * destination (6), source (6), type-or-length (2). A type-or-length value <= 1500 is an 802.3 length
 * and an IEEE 802.2 LLC header follows (IP then travels in SNAP, RFC 1042).
 * The FCS, when captured, and any padding lie after the IP datagram and are ignored because the IP
 * length fields bound everything inside.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { ETHER_MAX_LENGTH_FIELD } from './ethertype.js';
import { decodeLlcSnap } from './llc-snap.js';
import { cut } from './status.js';
import type { DecodedPacket } from './types.js';

export const ETH_HEADER_LEN = 14;
/** Offset of the type-or-length field. */
export const ETH_TYPE = 12;

/**
 * Decodes the MAC header at `off`. Returns the EtherType (out.l3Offset = where its payload starts)
 * or -1 with status/anomaly set.
 */
export function decodeEthernet(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < ETH_HEADER_LEN) return cut(out, Anomaly.truncated_ethernet_header);
  const type = u16be(buf, off + ETH_TYPE);
  if (type <= ETHER_MAX_LENGTH_FIELD) return decodeLlcSnap(out, buf, off + ETH_HEADER_LEN, end);
  out.l3Offset = off + ETH_HEADER_LEN;
  return type;
}
