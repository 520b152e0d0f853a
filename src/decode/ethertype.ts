/**
 * EtherType values the decoder dispatches on (IEEE Registration Authority EtherType list;
 * https://www.iana.org/assignments/ieee-802-numbers). Unknown values are kept as numbers.
 */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** ARP (RFC 826): not IP; an Ethernet pseudowire in MPLS may carry it (decode/mpls.ts). */
export const ETHERTYPE_ARP = 0x0806;
/** IEEE 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service VLAN tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ outer tag used by some switches. */
export const ETHERTYPE_QINQ_OLD = 0x9100;
/** Values up to 1500 in the type field are an IEEE 802.3 length: an LLC header follows. */
export const ETHER_MAX_LENGTH_FIELD = 1500;
/** Transparent Ethernet Bridging (RFC 1701): an Ethernet frame follows (GRE, Geneve). */
export const ETHERTYPE_TEB = 0x6558;
/** MPLS unicast and multicast (RFC 3032, RFC 5332). */
export const ETHERTYPE_MPLS_UC = 0x8847;
export const ETHERTYPE_MPLS_MC = 0x8848;
/** PPPoE discovery and session stages (RFC 2516). */
export const ETHERTYPE_PPPOE_DISCOVERY = 0x8863;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
/** PPP (RFC 2637: PPTP carries PPP frames in GRE version 1). */
export const ETHERTYPE_PPP = 0x880b;
/** ERSPAN type I and II (Cisco; draft-foschiano-erspan) and type III in GRE. */
export const ETHERTYPE_ERSPAN_II = 0x88be;
export const ETHERTYPE_ERSPAN_III = 0x22eb;
