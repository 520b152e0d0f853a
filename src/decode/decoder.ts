/**
 * PacketDecoder: one frame in, one reused DecodedPacket out (gopacket DecodingLayer style).
 *
 *   link (by link type) -> VLAN tags -> IPv4 | IPv6 (+ extension headers) (by EtherType)
 *     -> TCP | UDP | SCTP | ICMP | ICMPv6 (by IP protocol)
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
 *   ipv4_total_len_gt_captured, ipv6_payload_len_gt_captured, unknown_ip_protocol). A frame that is
 *   only snaplen-cut and decodes fine has anomaly 0 and truncated = true.
 */
import { LinkType } from '../capture/types.js';
import { Anomaly } from '../util/anomaly.js';
import { IpProto } from '../util/ip-proto.js';
import { decodeEthernet } from './ethernet.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethertype.js';
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6, Ipv6ChainWalk } from './ipv6.js';
import { decodeLinuxSll } from './linux-sll.js';
import { decodeLinuxSll2 } from './linux-sll2.js';
import { decodeLoop, decodeNull } from './null-loop.js';
import { setPayload } from './payload.js';
import { decodePktap } from './pktap.js';
import { decodeIeee80211, decodeRadiotap } from './radiotap-80211.js';
import { decodeRawIp } from './raw-ip.js';
import { decodeSctp } from './sctp.js';
import { notIp, note } from './status.js';
import { decodeTcp } from './tcp.js';
import { DecodedPacket, FragmentKind } from './types.js';
import { decodeUdp } from './udp.js';
import { decodeVlanTags, isVlanTpid } from './vlan.js';

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
    default:
      break;
  }
  return notIp(out, Anomaly.unsupported_link_type);
}

/** Transport dispatch on the IP protocol, after a successful IPv4/IPv6 decode. */
function decodeTransport(out: DecodedPacket, buf: Uint8Array, end: number, w: Ipv6ChainWalk): void {
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
      // GRE, ESP, AH (IPv4), No Next Header, ...: a flow keyed by protocol and addresses.
      note(out, Anomaly.unknown_ip_protocol);
      setPayload(out, l4, capEnd, ipEnd - l4);
  }
}

export class PacketDecoder {
  /** The reused result record: valid until the next decode(). */
  readonly out = new DecodedPacket();
  private readonly walk = new Ipv6ChainWalk();

  /**
   * Decodes the frame at buf[offset, offset + capLen); origLen is its length on the wire and
   * linkType its LINKTYPE_* value. Resets and fills `out`, and returns it.
   */
  decode(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): DecodedPacket {
    const out = this.out;
    out.reset();
    out.truncated = capLen < origLen;
    let end = offset + capLen;
    if (end > buf.length) end = buf.length; // a caller bug must not let us read a neighbour's bytes
    const frameEnd = offset + (origLen > capLen ? origLen : capLen);

    let type = decodeLinkLayer(out, buf, offset, end, linkType);
    if (type < 0) return out;
    if (isVlanTpid(type)) {
      type = decodeVlanTags(out, buf, type, end);
      if (type < 0) return out;
    }
    out.etherType = type;
    let l4: number;
    if (type === ETHERTYPE_IPV4) l4 = decodeIpv4(out, buf, end, frameEnd);
    else if (type === ETHERTYPE_IPV6) l4 = decodeIpv6(out, buf, end, frameEnd, this.walk);
    else {
      notIp(out, Anomaly.non_ip_ethertype);
      return out;
    }
    if (l4 >= 0) decodeTransport(out, buf, end, this.walk);
    return out;
  }
}
