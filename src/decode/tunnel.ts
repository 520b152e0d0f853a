/**
 * The encapsulation stack: what every tunnel decoder records, and how a packet inside a tunnel is
 * told apart from the same 5-tuple elsewhere.
 *
 * Two kinds of encapsulation:
 * - IP-carried tunnels (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP, Teredo, GTP-U): the outer packet is a
 *   flow of its own (tshark and Zeek keep both); its decoder calls openTunnel(), which records the
 *   entry and where the inner packet starts, and PacketDecoder.next() then decodes that packet as
 *   the frame's next level, with the entry on its stack.
 * - Link-level encapsulations (MPLS label stacks, PPPoE sessions) sit between a link header and IP,
 *   with no flow of their own: pushLinkEncapsulation() puts them on the current level's stack.
 *
 * Each entry (TUNNEL_WORDS words): type, flags (bit 0: the id is present; bits 8-15: what the
 * outer addresses are, OuterKind), id (VNI, GRE key or PPTP call id, ERSPAN session, bottom MPLS
 * label, PPPoE session, GTP-U TEID) and the outer source and destination (IP words like the
 * packet's, or a MAC as high 16 / low 32 bits in the first two words).
 *
 * The flow key's tunnel word (tunnelContext) digests the stack, so the same inner 5-tuple in two
 * VNIs stays two flows. It holds only what both directions of a conversation share: the tunnel
 * types, VXLAN/VXLAN-GPE/Geneve VNIs, PPPoE and ERSPAN sessions. Per-direction identifiers stay out (GTP-U
 * TEIDs, PPTP call ids, GRE keys, which RFC 2890 allows to differ per direction, and MPLS labels,
 * which change per hop and are popped before the last hop in one direction only), as do the outer
 * addresses (asymmetric routing, a conversation moving between tunnel endpoints). MPLS contributes
 * nothing at all for the same reason. One IP-carried tunnel with a 24-bit id is kept exactly
 * (type << 24 | id); deeper stacks are hashed.
 */
import { Anomaly } from '../util/anomaly.js';
import { u16be, u32be } from '../util/bytes.js';
import { note, notIp } from './status.js';
import { MAX_TUNNEL_DEPTH, TUNNEL_WORDS, type DecodedPacket } from './types.js';

/** Encapsulation types (entry word TW_TYPE); names in TUNNEL_TYPE_NAMES. */
export const TunnelType = {
  VXLAN: 1,
  GENEVE: 2,
  GRE: 3,
  ERSPAN: 4,
  IP_IN_IP: 5,
  MPLS: 6,
  PPPOE: 7,
  TEREDO: 8,
  GTP_U: 9,
  VXLAN_GPE: 10,
} as const;

/** Names in the flow record's `tunnel` list and in the summaries. */
export const TUNNEL_TYPE_NAMES = ['none', 'vxlan', 'geneve', 'gre', 'erspan', 'ip-in-ip', 'mpls', 'pppoe', 'teredo', 'gtp-u', 'vxlan-gpe'] as const;

export function tunnelTypeName(type: number): string {
  return TUNNEL_TYPE_NAMES[type] ?? `tunnel-${type}`;
}

/** What an opened tunnel carries (DecodedPacket.innerKind). */
export const InnerKind = {
  None: 0,
  Ethernet: 1,
  Ipv4: 2,
  Ipv6: 3,
  /** IPv4 or IPv6, told by the version nibble (GTP-U T-PDU, ERSPAN III IP frames, MPLS-less payloads). */
  IpByVersion: 4,
  /** An MPLS label stack (GRE 0x8847/0x8848, MPLS in IP). */
  Mpls: 5,
  /** A PPP frame with optional address/control and compressed protocol field (GRE v1, PPTP). */
  Ppp: 6,
} as const;

/** Entry word offsets. */
export const TW_TYPE = 0;
export const TW_FLAGS = 1;
export const TW_ID = 2;
export const TW_SRC = 3;
export const TW_DST = 7;
/** TW_FLAGS bit: the id word is meaningful. */
export const TF_HAS_ID = 1;
/** TW_FLAGS bits 8-15: OuterKind. */
export const TF_OUTER_SHIFT = 8;

/** What the outer addresses of an entry are. */
export const OuterKind = {
  None: 0,
  Mac: 1,
  Ipv4: 4,
  Ipv6: 6,
} as const;

/** Types whose id is the same in both directions and is part of the flow key. */
function keyedId(type: number): boolean {
  return type === TunnelType.VXLAN || type === TunnelType.VXLAN_GPE || type === TunnelType.GENEVE || type === TunnelType.PPPOE || type === TunnelType.ERSPAN;
}

/** The tunnel word after entering one more encapsulation (never 0 once inside one that counts). */
export function nextContext(ctx: number, type: number, id: number): number {
  if (type === TunnelType.MPLS) return ctx;
  const v = (type << 24) | (keyedId(type) ? id & 0xffffff : 0);
  if (ctx === 0) return v;
  let h = Math.imul(ctx ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(v, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h = h ^ (h >>> 16);
  return h === 0 ? 1 : h;
}

function writeEntry(out: DecodedPacket, d: number, type: number, id: number, hasId: boolean, outer: number): number {
  const t = out.tunnels;
  const b = d * TUNNEL_WORDS;
  t[b + TW_TYPE] = type;
  t[b + TW_FLAGS] = (hasId ? TF_HAS_ID : 0) | (outer << TF_OUTER_SHIFT);
  t[b + TW_ID] = id;
  return b;
}

/**
 * An IP-carried tunnel found in this packet: records its entry (outer addresses = this packet's)
 * and where the inner packet lies, for next(). At the depth limit nothing is opened and
 * tunnel_depth_exceeded is noted on this packet. Returns whether the tunnel was opened.
 */
export function openTunnel(
  out: DecodedPacket, type: number, id: number, hasId: boolean,
  kind: number, innerOffset: number, capEnd: number, declEnd: number,
): boolean {
  const d = out.tunnelDepth;
  if (d === MAX_TUNNEL_DEPTH) {
    note(out, Anomaly.tunnel_depth_exceeded);
    return false;
  }
  const b = writeEntry(out, d, type, id, hasId, out.ipVersion === 6 ? OuterKind.Ipv6 : OuterKind.Ipv4);
  const t = out.tunnels;
  t[b + TW_SRC] = out.src0; t[b + TW_SRC + 1] = out.src1; t[b + TW_SRC + 2] = out.src2; t[b + TW_SRC + 3] = out.src3;
  t[b + TW_DST] = out.dst0; t[b + TW_DST + 1] = out.dst1; t[b + TW_DST + 2] = out.dst2; t[b + TW_DST + 3] = out.dst3;
  out.innerKind = kind;
  out.innerOffset = innerOffset;
  out.innerEnd = capEnd < declEnd ? capEnd : declEnd;
  out.innerDeclEnd = declEnd;
  return true;
}

/**
 * Enters the tunnel opened on the previous level: the entry recorded by openTunnel() joins the
 * stack and the context. Called by next() after the level's fields were reset.
 */
export function enterTunnel(out: DecodedPacket): void {
  const d = out.tunnelDepth;
  const b = d * TUNNEL_WORDS;
  out.tunnelContext = nextContext(out.tunnelContext, out.tunnels[b + TW_TYPE]!, out.tunnels[b + TW_ID]!);
  out.tunnelDepth = d + 1;
}

/**
 * A link-level encapsulation (MPLS, PPPoE) on this level: pushed on the stack at once, with the
 * MAC addresses of the level's Ethernet header as outer addresses when there is one. At the depth
 * limit the packet is given up (NotIp, tunnel_depth_exceeded) and false returned.
 */
export function pushLinkEncapsulation(out: DecodedPacket, buf: Uint8Array, type: number, id: number): boolean {
  const d = out.tunnelDepth;
  if (d === MAX_TUNNEL_DEPTH) {
    notIp(out, Anomaly.tunnel_depth_exceeded);
    return false;
  }
  const e = out.ethOffset;
  const b = writeEntry(out, d, type, id, true, e >= 0 ? OuterKind.Mac : OuterKind.None);
  if (e >= 0) {
    // Ethernet: destination MAC at 0, source MAC at 6 (checked by decodeEthernet).
    const t = out.tunnels;
    t[b + TW_SRC] = u16be(buf, e + 6);
    t[b + TW_SRC + 1] = u32be(buf, e + 8);
    t[b + TW_DST] = u16be(buf, e);
    t[b + TW_DST + 1] = u32be(buf, e + 2);
  }
  out.tunnelContext = nextContext(out.tunnelContext, type, id);
  out.tunnelDepth = d + 1;
  return true;
}
