/**
 * Linux "cooked" capture header v1 (LINKTYPE_LINUX_SLL = 113,
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html): packet type (2), ARPHRD type (2),
 * link-layer address length (2), address (8, zero padded), protocol (2) = 16 bytes.
 * The protocol is an EtherType, or below 0x0600 a Linux ETH_P_* value: 0x0004 (ETH_P_802_2) means
 * an 802.2 LLC header follows. libpcap re-inserts VLAN tags, so 0x8100 is followed by a tag.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { decodeLlcSnap } from './llc-snap.js';
import { cut } from './status.js';
import type { DecodedPacket } from './types.js';

export const SLL_HEADER_LEN = 16;
const SLL_PROTOCOL = 14;
/** Linux ETH_P_802_2: the payload starts with an IEEE 802.2 LLC header. */
export const LINUX_ETH_P_802_2 = 0x0004;

/** Returns the EtherType (out.l3Offset = payload start) or -1. */
export function decodeLinuxSll(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < SLL_HEADER_LEN) return cut(out, Anomaly.truncated_sll_header);
  const protocol = u16be(buf, off + SLL_PROTOCOL);
  if (protocol === LINUX_ETH_P_802_2) return decodeLlcSnap(out, buf, off + SLL_HEADER_LEN, end);
  out.l3Offset = off + SLL_HEADER_LEN;
  return protocol;
}
