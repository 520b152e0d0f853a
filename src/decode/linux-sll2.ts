/**
 * Linux "cooked" capture header v2 (LINKTYPE_LINUX_SLL2 = 276,
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): protocol (2), reserved (2),
 * interface index (4), ARPHRD type (2), packet type (1), link-layer address length (1),
 * address (8, zero padded) = 20 bytes. Protocol values as in SLL v1.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be } from '../util/bytes.js';
import { decodeLlcSnap } from './llc-snap.js';
import { LINUX_ETH_P_802_2 } from './linux-sll.js';
import { cut } from './status.js';
import type { DecodedPacket } from './types.js';

export const SLL2_HEADER_LEN = 20;
const SLL2_PROTOCOL = 0;

/** Returns the EtherType (out.l3Offset = payload start) or -1. */
export function decodeLinuxSll2(out: DecodedPacket, buf: Uint8Array, off: number, end: number): number {
  if (end - off < SLL2_HEADER_LEN) return cut(out, Anomaly.truncated_sll2_header);
  const protocol = u16be(buf, off + SLL2_PROTOCOL);
  if (protocol === LINUX_ETH_P_802_2) return decodeLlcSnap(out, buf, off + SLL2_HEADER_LEN, end);
  out.l3Offset = off + SLL2_HEADER_LEN;
  return protocol;
}
