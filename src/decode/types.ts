/**
 * The decoder's output: one preallocated, reused record per decoder (gopacket DecodingLayer style).
 * Every field is a number or boolean so the object keeps one hidden class and costs nothing per
 * packet. Valid until the next decode() call.
 */

/** Outcome of decoding one frame. */
export const DecodeStatus = {
  /** Decoded down to the transport header (or to IP for protocols without ports). */
  Ok: 0,
  /** The frame was cut by the capture (caplen < origlen) before a needed header ended. */
  Truncated: 1,
  /** Bytes contradict the protocol (bad version, impossible length, ...). */
  Malformed: 2,
  /** Not IP (ARP, LLDP, ...) or a link type portsniff does not decode: counted, no flow. */
  NotIp: 3,
} as const;

/** TCP flag bits as in the header's 13th byte (plus NS is ignored). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Fragment position of the IP datagram this frame carries. */
export const FragmentKind = {
  None: 0,
  /** Offset 0 with more-fragments set: carries the transport header. */
  First: 1,
  /** Offset > 0: no transport header; attribute by (src, dst, proto, fragId). */
  Later: 2,
} as const;

/**
 * Encapsulations followed per frame (tunnel.ts): a frame nested deeper is counted up to this depth
 * and the next tunnel is left closed (tunnel_depth_exceeded). Real overlays nest two or three deep
 * (zeek's vxlan-triple test trace: three VXLAN headers).
 */
export const MAX_TUNNEL_DEPTH = 4;
/** Words per entry of DecodedPacket.tunnels (tunnel.ts TW_* offsets). */
export const TUNNEL_WORDS = 11;

export class DecodedPacket {
  /** DecodeStatus. */
  status = 0;
  /** Anomaly id (src/util/anomaly.ts), 0 = none. The first (outermost) problem found. */
  anomaly = 0;
  /** caplen < origlen. */
  truncated = false;

  /** Number of VLAN tags seen (0..MAX_VLAN_DEPTH). */
  vlanCount = 0;
  /** VLAN id (12 bits) of the outer tag, 0 if none. */
  vlanOuter = 0;
  /** VLAN id of the inner tag (QinQ), 0 if none. */
  vlanInner = 0;

  /** 0 (no IP), 4 or 6. */
  ipVersion = 0;
  /**
   * Source and destination addresses as four big-endian 32-bit words, each an int32 (two's
   * complement: `w >>> 0` is the unsigned word). IPv4: words 0..2 are 0 and word 3 holds the address
   * (ipVersion tells them apart). Signed because V8 keeps an int32 as a small integer, while a
   * uint32 >= 2^31 is a heap number, boxed when passed or stored as a tagged value.
   */
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** Transport protocol number (final next-header for IPv6), e.g. IpProto.TCP. */
  ipProto = 0;
  /** FragmentKind. */
  fragment = 0;
  /** IPv4 identification (16 bits) or IPv6 fragment identification (32 bits, as an int32). */
  fragId = 0;
  /** Byte offset (in the frame buffer) where the IP header starts. */
  l3Offset = 0;

  /** True when srcPort/dstPort are meaningful (TCP, UDP, SCTP, ICMP ids). */
  hasPorts = false;
  srcPort = 0;
  dstPort = 0;

  /** TCP only; sequence and acknowledgment numbers as int32, like the address words. */
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;

  /** ICMP/ICMPv6 type and code (when ipProto is ICMP/ICMPV6). */
  icmpType = 0;
  icmpCode = 0;
  /**
   * ICMP errors (unreachable, time exceeded, ...) quote the offending packet. When the quote holds
   * an IP header and ports, these describe it (from the original sender's point of view) so the
   * error can be attributed to that flow. Address words as int32, like src0..dst3.
   */
  quotedValid = false;
  quotedProto = 0;
  quotedSrc0 = 0;
  quotedSrc1 = 0;
  quotedSrc2 = 0;
  quotedSrc3 = 0;
  quotedDst0 = 0;
  quotedDst1 = 0;
  quotedDst2 = 0;
  quotedDst3 = 0;
  quotedSrcPort = 0;
  quotedDstPort = 0;

  /** Offset of the transport payload in the frame buffer and how many of its bytes were captured. */
  payloadOffset = 0;
  payloadCaptured = 0;
  /** Payload length according to the headers (may exceed payloadCaptured when truncated). */
  payloadLength = 0;

  /** Final EtherType after link and VLAN headers (0x0800, 0x86dd, 0x0806 for ARP, ...); 0 if none. */
  etherType = 0;
  /** Byte offset (in the frame buffer) of the transport header (or of a later fragment's data). */
  l4Offset = 0;
  /** Fragment offset in bytes (IPv4 offset field * 8, IPv6 fragment offset); 0 when not fragmented. */
  fragOffset = 0;
  /**
   * IP datagram length according to the header (IPv4 total length; IPv6 40 + payload length). A zero
   * length field (TCP segmentation offload, IPv6 jumbograms) is replaced by the frame's length.
   */
  ipLength = 0;

  /**
   * Tunnels (see tunnel.ts). `level`: which IP packet of the frame this is, 0 for the first (the
   * frame's own), n for the one inside the n-th tunnel that carries IP; PacketDecoder.next() moves
   * to the next level. Link-level encapsulations (MPLS, PPPoE) add to `tunnelDepth` without a level.
   */
  level = 0;
  /** Encapsulations this packet was found inside: entries [0, tunnelDepth) of `tunnels`. */
  tunnelDepth = 0;
  /**
   * The flow key's encapsulation word: 0 outside tunnels; else a digest of the tunnel types and of
   * the identifiers both directions share (VNI, PPPoE session, ERSPAN session). See tunnel.ts.
   */
  tunnelContext = 0;
  /**
   * What this packet carries that next() can open (InnerKind, 0 = nothing), where it starts, where
   * its captured bytes end and where it ends according to the outer headers.
   */
  innerKind = 0;
  innerOffset = 0;
  innerEnd = 0;
  innerDeclEnd = 0;
  /** Offset of the Ethernet header of this level (outer MACs of MPLS/PPPoE), -1 when none. */
  ethOffset = -1;
  /**
   * The encapsulation stack, TUNNEL_WORDS per entry, outermost first (tunnel.ts TW_* offsets). Only
   * entries below tunnelDepth are meaningful: reset() does not clear it (the depth does).
   */
  readonly tunnels = new Uint32Array(MAX_TUNNEL_DEPTH * TUNNEL_WORDS);

  reset(): void {
    this.resetLevel();
    this.truncated = false;
    this.level = 0;
    this.tunnelDepth = 0;
    this.tunnelContext = 0;
  }

  /** Clears the fields of one IP level (everything except the frame's and the tunnel stack's). */
  resetLevel(): void {
    this.status = 0;
    this.anomaly = 0;
    this.vlanCount = 0;
    this.vlanOuter = 0;
    this.vlanInner = 0;
    this.ipVersion = 0;
    this.src0 = this.src1 = this.src2 = this.src3 = 0;
    this.dst0 = this.dst1 = this.dst2 = this.dst3 = 0;
    this.ipProto = 0;
    this.fragment = 0;
    this.fragId = 0;
    this.l3Offset = 0;
    this.hasPorts = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.quotedValid = false;
    this.quotedProto = 0;
    this.quotedSrc0 = this.quotedSrc1 = this.quotedSrc2 = this.quotedSrc3 = 0;
    this.quotedDst0 = this.quotedDst1 = this.quotedDst2 = this.quotedDst3 = 0;
    this.quotedSrcPort = 0;
    this.quotedDstPort = 0;
    this.payloadOffset = 0;
    this.payloadCaptured = 0;
    this.payloadLength = 0;
    this.etherType = 0;
    this.l4Offset = 0;
    this.fragOffset = 0;
    this.ipLength = 0;
    this.innerKind = 0;
    this.innerOffset = 0;
    this.innerEnd = 0;
    this.innerDeclEnd = 0;
    this.ethOffset = -1;
  }
}

/** Limits against hostile input: bounded work per packet. */
export const MAX_VLAN_DEPTH = 2;
/**
 * Most IPv6 extension headers walked per packet (the upper-layer header does not count). RFC 8200
 * section 4.1 expects at most one of each (Destination Options twice), i.e. about 8, but real
 * traffic and test suites go further: libpcap's tests/filter/ipv6_ext_headers.pcap carries 100
 * (Hop-by-Hop + 33 x [Routing, atomic Fragment, Destination Options]) and tshark decodes it to UDP.
 * 128 accepts that chain with headroom; the work stays bounded (each header costs a few reads).
 */
export const MAX_IPV6_EXT_HEADERS = 128;
