/**
 * PacketDecoder: one frame in, one reused DecodedPacket out (gopacket DecodingLayer style).
 *
 *   link (by link type) -> VLAN tags -> [MPLS | PPPoE] -> IPv4 | IPv6 (+ extension headers)
 *     -> TCP | UDP | SCTP | ICMP | ICMPv6 (by IP protocol)
 *
 * Tunnels: decode() stops at the frame's first IP packet and its transport header. When that packet
 * carries a tunnel (a UDP port of DecapOptions, IP protocol 4/41/47/137), the tunnel header is
 * checked there and then (a bad one is an anomaly of this packet) and next() decodes the packet
 * inside as the frame's next level, reusing `out`: Ethernet (+ VLAN, MPLS, PPPoE) or IP, down to its
 * transport header, and so on up to MAX_TUNNEL_DEPTH encapsulations. Each level is a flow packet of
 * its own; `level`, `tunnelDepth`, `tunnelContext` and `tunnels` say where it was found.
 *
 * Contract:
 * - decode() never throws and never reads outside buf[offset, offset + capLen): every layer checks
 *   its length once against the captured end (and the IP-declared end) before reading.
 * - No allocation per packet: the output record and the IPv6 walk record are preallocated; the
 *   result is valid until the next decode() call on this instance.
 * - status Ok: decoded down to the transport header (ports when hasPorts), or to IP for later
 *   fragments and protocols without ports (anomaly unknown_ip_protocol then). Truncated: a needed
 *   header is cut and the capture cut the frame (caplen < origlen). Malformed: the frame is whole
 *   but a header is inconsistent. NotIp: not IP or not a supported framing.
 * - A failing layer leaves its own fields (and the inner ones) zero; outer layers' fields stay.
 *   hasPorts is true only when the ports were read from a header that passed its checks.
 * - anomaly: the first problem met; Ok packets may carry a tolerated one (udp_length_gt_ip_payload,
 *   ipv4_total_len_gt_captured, ipv6_payload_len_gt_captured, unknown_ip_protocol, a bad tunnel
 *   header). A frame that is only snaplen-cut and decodes fine has anomaly 0 and truncated = true.
 * - Inner levels are bounded by the outer packet: they never read past the outer datagram (or the
 *   UDP length) nor past the captured bytes.
 */
import { LinkType } from '../capture/types.js';
import { Anomaly } from '../util/anomaly.js';
import { IpProto } from '../util/ip-proto.js';
import { DEFAULT_DECAP_OPTIONS, udpTunnelOf, udpTunnelPorts, UdpTunnel, type DecapOptions } from './decap-options.js';
import { decodeEthernet } from './ethernet.js';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS_MC, ETHERTYPE_MPLS_UC, ETHERTYPE_PPPOE_DISCOVERY, ETHERTYPE_PPPOE_SESSION,
  ETHERTYPE_TEB,
} from './ethertype.js';
import { decodeGeneve } from './geneve.js';
import { decodeGre } from './gre.js';
import { decodeGtpU } from './gtp-u.js';
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6, Ipv6ChainWalk } from './ipv6.js';
import { decodeLinuxSll } from './linux-sll.js';
import { decodeLinuxSll2 } from './linux-sll2.js';
import { decodeMpls } from './mpls.js';
import { decodeNflog } from './nflog.js';
import { decodeLoop, decodeNull } from './null-loop.js';
import { setPayload } from './payload.js';
import { decodePlain } from './plain.js';
import { decodePktap } from './pktap.js';
import { decodePpp } from './ppp.js';
import { decodePppoe } from './pppoe.js';
import { decodeIeee80211, decodeRadiotap } from './radiotap-80211.js';
import { decodeRawIp } from './raw-ip.js';
import { decodeSctp } from './sctp.js';
import { notIp, note } from './status.js';
import { decodeTcp } from './tcp.js';
import { decodeTeredo } from './teredo.js';
import { enterTunnel, InnerKind, openTunnel, TunnelType } from './tunnel.js';
import { DecodedPacket, DecodeStatus, FragmentKind } from './types.js';
import { decodeUdp } from './udp.js';
import { decodeVlanTags, isVlanTpid } from './vlan.js';
import { decodeVxlan, decodeVxlanGpe } from './vxlan.js';

/** The pcap link-type field keeps the LINKTYPE in its low 16 bits (upper bits: FCS length info). */
const LINKTYPE_MASK = 0xffff;

/**
 * The link layer of a frame (any LINKTYPE the decoder reads; the pcap field's upper bits are
 * ignored): returns the EtherType of what follows, out.l3Offset = its start, or -1 (status and
 * anomaly set). VLAN tags are the caller's next step. Also used by pipeline/shard.ts, which must
 * find the same IP header the decoder finds.
 */
export function decodeLinkLayer(out: DecodedPacket, buf: Uint8Array, off: number, end: number, linkType: number): number {
  return decodeLink(out, buf, off, end, linkType & LINKTYPE_MASK, false);
}

/**
 * Link-layer dispatch. Returns the EtherType of what follows (out.l3Offset = its start) or -1.
 * `nested`: inside a PKTAP header (which may not contain another).
 */
function decodeLink(out: DecodedPacket, buf: Uint8Array, off: number, end: number, linkType: number, nested: boolean): number {
  switch (linkType) {
    case LinkType.ETHERNET:
      out.ethOffset = off;
      return decodeEthernet(out, buf, off, end);
    case LinkType.LINUX_SLL:
      return decodeLinuxSll(out, buf, off, end);
    case LinkType.LINUX_SLL2:
      return decodeLinuxSll2(out, buf, off, end);
    case LinkType.RAW:
      return decodeRawIp(out, buf, off, end);
    case LinkType.IPV4:
      out.l3Offset = off;
      return ETHERTYPE_IPV4;
    case LinkType.IPV6:
      out.l3Offset = off;
      return ETHERTYPE_IPV6;
    case LinkType.NULL:
      return decodeNull(out, buf, off, end);
    case LinkType.LOOP:
      return decodeLoop(out, buf, off, end);
    case LinkType.IEEE802_11_RADIOTAP:
      return decodeRadiotap(out, buf, off, end);
    case LinkType.IEEE802_11:
      return decodeIeee80211(out, buf, off, end, false);
    case LinkType.PKTAP: {
      if (nested) break;
      const inner = decodePktap(out, buf, off, end);
      if (inner < 0) return -1;
      return decodeLink(out, buf, out.l3Offset, end, inner, true);
    }
    case LinkType.NFLOG:
      return decodeNflog(out, buf, off, end);
    default:
      break;
  }
  return notIp(out, Anomaly.unsupported_link_type);
}

/**
 * Transport dispatch on the IP protocol, after a successful IPv4/IPv6 decode. `decap`: IP tunnel
 * protocols are opened (findTunnel), so they are not noted as unknown. Tunnels are looked for by the
 * caller, after this: the function stays as small as it was before tunnels (V8 inlines it into the
 * engine's per-packet path).
 */
function decodeTransport(out: DecodedPacket, buf: Uint8Array, end: number, w: Ipv6ChainWalk, decap: boolean): void {
  const l4 = out.l4Offset;
  const ipEnd = out.l3Offset + out.ipLength;
  const capEnd = end < ipEnd ? end : ipEnd;
  if (out.fragment === FragmentKind.Later) {
    // Fragment data without a transport header: attributed later by (src, dst, proto, fragId).
    setPayload(out, l4, capEnd, ipEnd - l4);
    return;
  }
  switch (out.ipProto) {
    case IpProto.TCP:
      decodeTcp(out, buf, l4, capEnd, ipEnd);
      return;
    case IpProto.UDP:
      decodeUdp(out, buf, l4, capEnd, ipEnd);
      return;
    case IpProto.SCTP:
      decodeSctp(out, buf, l4, capEnd, ipEnd);
      return;
    case IpProto.ICMP:
      decodeIcmp(out, buf, l4, capEnd, ipEnd, false, w);
      return;
    case IpProto.ICMPV6:
      decodeIcmp(out, buf, l4, capEnd, ipEnd, true, w);
      return;
    default:
      // A flow keyed by protocol and addresses. Tunnels (IP in IP, GRE, MPLS in IP) are opened by
      // findTunnel; anything else (ESP, AH (IPv4), No Next Header, ...) is an unknown protocol.
      setPayload(out, l4, capEnd, ipEnd - l4);
      if (!decap || !isIpTunnel(out.ipProto)) note(out, Anomaly.unknown_ip_protocol);
  }
}

/**
 * After decodeTransport, with decapsulation on and a packet that may carry a tunnel (a UDP tunnel
 * port, an IP tunnel protocol): checks the tunnel header and records what is inside (openTunnel).
 */
function findTunnel(out: DecodedPacket, buf: Uint8Array, end: number, ports: Uint8Array): void {
  if (out.fragment === FragmentKind.Later) return; // fragment data: no header here
  if (out.ipProto === IpProto.UDP) {
    udpTunnel(out, buf, udpTunnelOf(ports, out.srcPort, out.dstPort));
    return;
  }
  const ipEnd = out.l3Offset + out.ipLength;
  ipTunnel(out, buf, out.l4Offset, end < ipEnd ? end : ipEnd, ipEnd);
}

function isIpTunnel(proto: number): boolean {
  return proto === IpProto.IPIP || proto === IpProto.IPV6 || proto === IpProto.GRE || proto === IpProto.MPLS_IN_IP;
}

/** The tunnel in a UDP datagram's payload (`tunnel`: UdpTunnel). */
function udpTunnel(out: DecodedPacket, buf: Uint8Array, tunnel: number): void {
  if (out.fragment !== FragmentKind.None) {
    // Only the first piece of the tunnel packet is here: the outer flow counts it, as any fragment.
    note(out, Anomaly.tunnel_outer_fragmented);
    return;
  }
  const off = out.payloadOffset;
  const capEnd = off + out.payloadCaptured;
  const declEnd = off + out.payloadLength;
  switch (tunnel) {
    case UdpTunnel.VXLAN:
      decodeVxlan(out, buf, off, capEnd, declEnd);
      return;
    case UdpTunnel.GENEVE:
      decodeGeneve(out, buf, off, capEnd, declEnd);
      return;
    case UdpTunnel.GTP_U:
      decodeGtpU(out, buf, off, capEnd, declEnd);
      return;
    case UdpTunnel.TEREDO:
      decodeTeredo(out, buf, off, capEnd, declEnd);
      return;
    case UdpTunnel.VXLAN_GPE:
      decodeVxlanGpe(out, buf, off, capEnd, declEnd);
      return;
  }
}

/** IP protocols 4, 41 (IP in IP), 47 (GRE) and 137 (MPLS in IP) at `l4`. */
function ipTunnel(out: DecodedPacket, buf: Uint8Array, l4: number, capEnd: number, ipEnd: number): void {
  if (out.fragment !== FragmentKind.None) {
    note(out, Anomaly.tunnel_outer_fragmented);
    return;
  }
  switch (out.ipProto) {
    case IpProto.IPIP:
      openTunnel(out, TunnelType.IP_IN_IP, 0, false, InnerKind.Ipv4, l4, capEnd, ipEnd);
      return;
    case IpProto.IPV6:
      openTunnel(out, TunnelType.IP_IN_IP, 0, false, InnerKind.Ipv6, l4, capEnd, ipEnd);
      return;
    case IpProto.GRE:
      decodeGre(out, buf, l4, capEnd, ipEnd);
      return;
    default:
      // MPLS in IP: the label stack is recorded as its own entry inside this one.
      openTunnel(out, TunnelType.IP_IN_IP, 0, false, InnerKind.Mpls, l4, capEnd, ipEnd);
  }
}

const EMPTY_FRAME = new Uint8Array(0);

export class PacketDecoder {
  /** The reused result record: valid until the next decode() or next(). */
  readonly out = new DecodedPacket();
  private readonly walk = new Ipv6ChainWalk();
  /** UDP tunnel ports (DecapOptions); null: decapsulation off. */
  private readonly ports: Uint8Array | null;

  /** The UDP ports this decoder opens as tunnels (65,536 entries, non-zero: a tunnel); null: decapsulation off. */
  get tunnelPorts(): Uint8Array | null {
    return this.ports;
  }
  /** 1 for the IP protocols that may carry a tunnel (UDP, 4, 41, 47, 137); all 0 with decapsulation off. */
  private readonly tunnelProtos = new Uint8Array(256);
  /** The frame of the level whose tunnel next() opens. */
  private buf: Uint8Array = EMPTY_FRAME;

  constructor(decap: DecapOptions = DEFAULT_DECAP_OPTIONS) {
    this.ports = udpTunnelPorts(decap);
    if (this.ports !== null) {
      for (const p of [IpProto.UDP, IpProto.IPIP, IpProto.IPV6, IpProto.GRE, IpProto.MPLS_IN_IP]) this.tunnelProtos[p] = 1;
    }
  }

  /**
   * Decodes the frame at buf[offset, offset + capLen); origLen is its length on the wire and
   * linkType its LINKTYPE_* value. Resets and fills `out` with the frame's first IP packet (level 0),
   * and returns it.
   */
  decode(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): DecodedPacket {
    const out = this.out;
    out.reset();
    out.truncated = capLen < origLen;
    let end = offset + capLen;
    if (end > buf.length) end = buf.length; // a caller bug must not let us read a neighbour's bytes
    const frameEnd = offset + (origLen > capLen ? origLen : capLen);

    const type = decodeLinkLayer(out, buf, offset, end, linkType);
    if (type >= 0) this.network(out, buf, type, end, frameEnd);
    // Kept for next() only when there is a tunnel to open (no pointer store on the common path).
    if (out.innerKind !== 0) this.buf = buf;
    return out;
  }

  /**
   * The common frame (Ethernet, VLAN tags, IPv4 or IPv6, TCP or UDP; plain.ts) decoded without the
   * general dispatch, into `out` as decode() would have it; null for any other frame (then call
   * decode()). A frame decoded here carries no tunnel (next() returns null).
   */
  decodePlain(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): DecodedPacket | null {
    return decodePlain(this.out, buf, offset, capLen, origLen, linkType, this.ports) ? this.out : null;
  }

  /**
   * The packet inside the tunnel the current level carries (out.innerKind != 0): resets the level's
   * fields and decodes it into `out` (level + 1), or returns null when the level carries none.
   */
  next(): DecodedPacket | null {
    const out = this.out;
    const kind = out.innerKind;
    if (kind === InnerKind.None) return null;
    const off = out.innerOffset;
    const end = out.innerEnd;
    const declEnd = out.innerDeclEnd;
    const level = out.level + 1;
    out.resetLevel();
    out.level = level;
    enterTunnel(out);
    const buf = this.buf;
    this.buf = EMPTY_FRAME; // the next level sets it again if it opens another tunnel
    out.l3Offset = off;
    switch (kind) {
      case InnerKind.Ethernet: {
        out.ethOffset = off;
        const type = decodeEthernet(out, buf, off, end);
        if (type >= 0) this.network(out, buf, type, end, declEnd);
        break;
      }
      case InnerKind.Ipv4:
        this.network(out, buf, ETHERTYPE_IPV4, end, declEnd);
        break;
      case InnerKind.Ipv6:
        this.network(out, buf, ETHERTYPE_IPV6, end, declEnd);
        break;
      case InnerKind.IpByVersion: {
        const type = decodeRawIp(out, buf, off, end);
        if (type >= 0) this.network(out, buf, type, end, declEnd);
        break;
      }
      case InnerKind.Mpls:
        this.network(out, buf, ETHERTYPE_MPLS_UC, end, declEnd);
        break;
      default: {
        const type = decodePpp(out, buf, end);
        if (type >= 0) this.network(out, buf, type, end, declEnd);
      }
    }
    if (out.innerKind !== 0) this.buf = buf;
    return out;
  }

  /**
   * From the EtherType after a link header (out.l3Offset = what follows it) down to the transport:
   * VLAN tags, then IP. Anything else goes through linkEncapsulations(), off the common path.
   */
  private network(out: DecodedPacket, buf: Uint8Array, type: number, end: number, frameEnd: number): void {
    if (isVlanTpid(type)) {
      type = decodeVlanTags(out, buf, type, end);
      if (type < 0) return;
    }
    out.etherType = type;
    if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) {
      type = this.linkEncapsulations(out, buf, type, end);
      if (type < 0) return;
    }
    const l4 = type === ETHERTYPE_IPV4 ? decodeIpv4(out, buf, end, frameEnd) : decodeIpv6(out, buf, end, frameEnd, this.walk);
    if (l4 < 0) return;
    decodeTransport(out, buf, end, this.walk, this.ports !== null);
    // May it carry a tunnel? One table read on the common path (TCP: never); the rest is off it.
    if (this.tunnelProtos[out.ipProto] !== 0) this.maybeTunnel(out, buf, end);
  }

  /** UDP, IP in IP, GRE, MPLS in IP with decapsulation on: opens the tunnel if there is one. */
  private maybeTunnel(out: DecodedPacket, buf: Uint8Array, end: number): void {
    const ports = this.ports!;
    if (out.ipProto === IpProto.UDP ? out.hasPorts && (ports[out.srcPort]! | ports[out.dstPort]!) !== 0 : out.status === DecodeStatus.Ok) {
      findTunnel(out, buf, end, ports);
    }
  }

  /**
   * A non-IP EtherType: link-level encapsulations (MPLS, PPPoE, an Ethernet pseudowire inside MPLS,
   * with VLAN tags again) until IP, or the reason it is not IP. Returns the IP EtherType or -1.
   * Bounded: every encapsulation pushes a stack entry, and the stack is bounded.
   */
  private linkEncapsulations(out: DecodedPacket, buf: Uint8Array, type: number, end: number): number {
    const decap = this.ports !== null;
    for (;;) {
      if (decap && (type === ETHERTYPE_MPLS_UC || type === ETHERTYPE_MPLS_MC)) type = decodeMpls(out, buf, end);
      else if (decap && type === ETHERTYPE_PPPOE_SESSION) type = decodePppoe(out, buf, end);
      else if (type === ETHERTYPE_PPPOE_DISCOVERY) return notIp(out, Anomaly.pppoe_discovery);
      else return notIp(out, Anomaly.non_ip_ethertype);
      if (type < 0) return -1;
      if (type === ETHERTYPE_TEB) {
        // An Ethernet pseudowire: its own header (and VLAN tags) are this level's link.
        const at = out.l3Offset;
        out.ethOffset = at;
        out.vlanCount = out.vlanOuter = out.vlanInner = 0;
        type = decodeEthernet(out, buf, at, end);
        if (type < 0) return -1;
        if (isVlanTpid(type)) {
          type = decodeVlanTags(out, buf, type, end);
          if (type < 0) return -1;
        }
      }
      out.etherType = type;
      if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return type;
    }
  }
}
