/**
 * Named anomaly codes (Zeek "weirds"): malformed or surprising input is counted under one of these
 * names, never thrown. The hot path works with the numeric id (index into ANOMALY_NAMES); names are
 * only looked up when a report is written.
 *
 * Append new codes at the end of the list: ids are used in worker messages and must stay stable
 * within one build. Names are snake_case and part of the public JSON schema.
 */
export const ANOMALY_NAMES = [
  'none',
  // capture / frame level
  'truncated_frame', // caplen < origlen: the capture cut the packet (snaplen), not a malformed packet
  'unsupported_link_type',
  // link layer
  'truncated_link_header',
  'truncated_ethernet_header',
  'truncated_vlan_header',
  'vlan_depth_exceeded',
  'truncated_sll_header',
  'truncated_sll2_header',
  'truncated_null_header',
  'unknown_null_family',
  'truncated_radiotap_header',
  'truncated_ieee80211_header',
  'truncated_pktap_header',
  'non_ip_ethertype', // ARP, LLDP, ...: counted, not a flow
  // IPv4
  'truncated_ipv4_header',
  'ipv4_bad_version',
  'ipv4_ihl_too_small',
  'ipv4_ihl_gt_total_len',
  'ipv4_total_len_too_small',
  'ipv4_total_len_gt_captured', // total length claims more than the frame holds (and frame not snaplen-cut)
  // IPv6
  'truncated_ipv6_header',
  'ipv6_bad_version',
  'ipv6_payload_len_gt_captured',
  'truncated_ipv6_ext_header',
  'ipv6_ext_header_chain_too_long',
  // fragments
  'ip_fragment_without_first', // a later fragment whose first fragment was never seen
  'ip_fragment_too_small_for_ports', // first fragment too short to hold the transport ports
  // transport
  'truncated_tcp_header',
  'tcp_data_offset_too_small',
  'tcp_data_offset_gt_segment',
  'truncated_udp_header',
  'udp_length_too_small',
  'udp_length_gt_ip_payload',
  'truncated_sctp_header',
  'truncated_icmp_header',
  'truncated_icmpv6_header',
  'unknown_ip_protocol', // not TCP/UDP/SCTP/ICMP: still a flow keyed by protocol + addresses
  // flow level
  'tcp_port_reuse', // SYN on a closed flow: a new flow starts
  'flow_evicted', // the live-flow bound forced an eviction
  // decoder additions (appended: ids above are stable)
  'raw_ip_bad_version', // raw-IP link type (101) whose version nibble is neither 4 nor 6
  'radiotap_bad_header', // radiotap version != 0, length < 8 or an unbounded present-word chain
  'ieee80211_non_data_frame', // 802.11 management/control frame or data frame without a body: not IP
  'ieee80211_protected_frame', // 802.11 data frame with the Protected bit: encrypted, not decodable
  'pktap_bad_header', // PKTAP header length below the 108-byte fixed header
  // tunnels and encapsulations (appended). A malformed tunnel header is noted on the outer packet,
  // whose own flow still counts it; the packet inside is then not decoded.
  'truncated_vxlan_header',
  'vxlan_i_flag_clear', // VXLAN I flag not set (RFC 7348: the VNI is then not valid); decoded anyway, as tshark does
  'truncated_geneve_header', // fixed header or its options cut
  'geneve_bad_version',
  'geneve_unknown_protocol', // protocol type neither Ethernet nor IPv4/IPv6
  'truncated_gre_header', // a GRE header with its optional fields (checksum, key, sequence, ack, routing) cut
  'gre_bad_version', // GRE version neither 0 (RFC 2784) nor 1 (PPTP, RFC 2637 with PPP)
  'gre_unknown_protocol', // GRE protocol type portsniff does not open (WCCP, NSH, ...)
  'gre_routing_too_long', // RFC 1701 source route entries beyond the limit
  'truncated_erspan_header',
  'erspan_bad_version', // ERSPAN version field does not match the GRE protocol type
  'truncated_mpls_header',
  'mpls_label_stack_too_deep', // no bottom-of-stack label within MAX_MPLS_LABELS
  'mpls_unknown_payload', // after the label stack: neither IPv4/IPv6 nor an Ethernet pseudowire
  'truncated_pppoe_header',
  'pppoe_bad_header', // PPPoE version/type not 1/1 or code not session data
  'pppoe_discovery', // PPPoE discovery (PADI, PADO, ...): counted, not a flow
  'truncated_ppp_header',
  'ppp_non_ip_protocol', // PPP control (LCP, IPCP, CCP, ...) or compressed/encrypted data: not a flow
  'truncated_nflog_header',
  'nflog_bad_header', // NFLOG version != 0 or a TLV length below 4
  'nflog_no_payload', // NFLOG message without an NFULA_PAYLOAD TLV
  'truncated_teredo_header', // authentication or origin indication cut
  'teredo_bad_payload', // UDP 3544 payload that is not an IPv6 packet after the indicators
  'truncated_gtpu_header', // GTP-U header, optional fields or extension headers cut
  'gtpu_bad_version', // not GTPv1 with PT = 1
  'gtpu_bad_extension', // extension header of length 0, or extensions past the message length
  'gtpu_unknown_payload', // T-PDU that is neither IPv4 nor IPv6 (5G Ethernet or unstructured PDU sessions)
  'tunnel_depth_exceeded', // a further encapsulation beyond MAX_TUNNEL_DEPTH: not opened
  'tunnel_outer_fragmented', // a tunnel packet inside a fragmented outer datagram: counted in the outer flow, not opened
  'truncated_vxlan_gpe_header',
  'vxlan_gpe_unknown_protocol', // VXLAN-GPE next protocol other than IPv4, IPv6, Ethernet, MPLS (NSH, ...)
] as const;

export type AnomalyName = (typeof ANOMALY_NAMES)[number];

/** Numeric anomaly ids, e.g. `Anomaly.truncated_ipv4_header`. */
export const Anomaly = Object.freeze(
  Object.fromEntries(ANOMALY_NAMES.map((name, i) => [name, i])) as { [K in AnomalyName]: number },
);

export const ANOMALY_COUNT = ANOMALY_NAMES.length;

export function anomalyName(id: number): AnomalyName | `anomaly_${number}` {
  return ANOMALY_NAMES[id] ?? `anomaly_${id}`;
}

/** Global anomaly counters: one slot per code, no per-packet allocation. */
export class AnomalyCounters {
  readonly counts = new Float64Array(ANOMALY_COUNT);

  add(id: number, n = 1): void {
    this.counts[id] = (this.counts[id] ?? 0) + n;
  }

  /** Codes with a non-zero count, sorted by name, as a plain object for JSON output. */
  toRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    const names = ANOMALY_NAMES.map((n, i) => [n, i] as const)
      .filter(([, i]) => i !== 0 && (this.counts[i] ?? 0) > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, i] of names) out[name] = this.counts[i] ?? 0;
    return out;
  }

  mergeFrom(other: AnomalyCounters): void {
    for (let i = 0; i < ANOMALY_COUNT; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
  }
}
