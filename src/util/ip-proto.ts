/**
 * IP protocol numbers portsniff knows by name (IANA "Assigned Internet Protocol Numbers"; for IPv6
 * the final Next Header value). The one definition the decoder, the flow table, the rules index,
 * the classifier and the shard picker use; any other value is kept as a plain number.
 */
export const IpProto = {
  ICMP: 1,
  /** IPv4 in IP (RFC 2003). */
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  /** IPv6 in IP (RFC 4213, "6in4"; also 6in6). */
  IPV6: 41,
  /** GRE (RFC 2784). */
  GRE: 47,
  ICMPV6: 58,
  SCTP: 132,
  /** MPLS in IP (RFC 4023). */
  MPLS_IN_IP: 137,
} as const;

/** Transport names as outputs and `rules explain` spell them; other protocols are `ip-proto-N`. */
const NAMES: ReadonlyMap<number, string> = new Map([
  [IpProto.TCP, 'tcp'],
  [IpProto.UDP, 'udp'],
  [IpProto.SCTP, 'sctp'],
  [IpProto.ICMP, 'icmp'],
  [IpProto.ICMPV6, 'icmpv6'],
]);

/** 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', or `ip-proto-N` for any other protocol number. */
export function ipProtoName(proto: number): string {
  return NAMES.get(proto) ?? `ip-proto-${proto}`;
}

/** The protocol number of a name ipProtoName() gives (`ip-proto-N` too), or null for anything else. */
export function ipProtoByName(name: string): number | null {
  for (const [n, s] of NAMES) if (s === name) return n;
  const m = /^ip-proto-(\d{1,3})$/.exec(name);
  return m !== null && Number(m[1]) <= 255 ? Number(m[1]) : null;
}

/** ICMP and ICMPv6: no ports; rules of transport `icmp` answer for both. */
export function isIcmpProto(proto: number): boolean {
  return proto === IpProto.ICMP || proto === IpProto.ICMPV6;
}
