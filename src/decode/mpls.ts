/**
 * MPLS label stack (RFC 3032 section 2.1): entries of label (20 bits), traffic class (3), bottom of
 * stack S (1), TTL (8), walked to the entry with S set (at most MAX_MPLS_LABELS). What follows has
 * no type field; like tshark it is told by its first nibble (RFC 4385 / RFC 4928):
 * - 4 or 6: an IPv4 or IPv6 packet (also after the explicit-null labels 0 and 2);
 * - 0: a pseudowire control word (4 bytes), then an Ethernet frame (RFC 4448), taken as such when
 *   the frame's EtherType is one portsniff decodes;
 * - anything else: an Ethernet pseudowire without control word, again only when the EtherType
 *   12 bytes in is a known one; otherwise (1: associated channel, OAM; or a payload that cannot be
 *   told) mpls_unknown_payload.
 * The stack is one `mpls` entry whose id is the bottom label (the one naming the service, e.g. the
 * VPN); labels are per direction and per hop, so they are not part of the flow key.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u32be } from '../util/bytes.js';
import { ETH_HEADER_LEN } from './ethernet.js';
import {
  ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS_MC, ETHERTYPE_MPLS_UC, ETHERTYPE_PPPOE_SESSION,
  ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_TEB, ETHERTYPE_VLAN,
} from './ethertype.js';
import { cut, notIp } from './status.js';
import { pushLinkEncapsulation, TunnelType } from './tunnel.js';
import type { DecodedPacket } from './types.js';

export const MPLS_LABEL_LEN = 4;
/**
 * Labels walked at most before the bottom of the stack. Service provider stacks hold 2-5 (transport,
 * VPN, entropy label indicator + entropy label, ...); 16 leaves room and bounds the work.
 */
export const MAX_MPLS_LABELS = 16;
const MPLS_BOTTOM = 0x100;
const MPLS_LABEL_SHIFT = 12;
const PW_CONTROL_WORD_LEN = 4;
const ETH_TYPE = 12;

/** An Ethernet header at `off` whose EtherType portsniff decodes (a pseudowire, not noise). */
function plausibleEthernet(buf: Uint8Array, off: number, end: number): boolean {
  if (end - off < ETH_HEADER_LEN) return false;
  switch (u16be(buf, off + ETH_TYPE)) {
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6:
    case ETHERTYPE_VLAN:
    case ETHERTYPE_QINQ:
    case ETHERTYPE_QINQ_OLD:
    case ETHERTYPE_MPLS_UC:
    case ETHERTYPE_MPLS_MC:
    case ETHERTYPE_PPPOE_SESSION:
    case ETHERTYPE_ARP:
      return true;
    default:
      return false;
  }
}

/**
 * The label stack at out.l3Offset. Returns what follows: ETHERTYPE_IPV4/IPV6, or ETHERTYPE_TEB for
 * an Ethernet frame (out.l3Offset = its start), or -1 with status and anomaly set.
 */
export function decodeMpls(out: DecodedPacket, buf: Uint8Array, end: number): number {
  let off = out.l3Offset;
  let entry = 0;
  for (let n = 0; ; n++) {
    if (n === MAX_MPLS_LABELS) return notIp(out, Anomaly.mpls_label_stack_too_deep);
    if (end - off < MPLS_LABEL_LEN) return cut(out, Anomaly.truncated_mpls_header);
    entry = u32be(buf, off);
    off += MPLS_LABEL_LEN;
    if ((entry & MPLS_BOTTOM) !== 0) break;
  }
  if (!pushLinkEncapsulation(out, buf, TunnelType.MPLS, entry >>> MPLS_LABEL_SHIFT)) return -1;
  if (end - off < 1) return cut(out, Anomaly.truncated_mpls_header);
  const nibble = buf[off]! >> 4;
  out.l3Offset = off;
  if (nibble === 4) return ETHERTYPE_IPV4;
  if (nibble === 6) return ETHERTYPE_IPV6;
  if (nibble === 0 && plausibleEthernet(buf, off + PW_CONTROL_WORD_LEN, end)) {
    out.l3Offset = off + PW_CONTROL_WORD_LEN;
    return ETHERTYPE_TEB;
  }
  if (nibble !== 1 && plausibleEthernet(buf, off, end)) return ETHERTYPE_TEB;
  return notIp(out, Anomaly.mpls_unknown_payload);
}
