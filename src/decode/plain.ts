/**
 * The common frame, decoded in one pass without the general decoder's dispatch: Ethernet II with up
 * to two VLAN tags, then IPv4 (not a fragment, the whole datagram captured) or IPv6 (no extension
 * header, the whole payload captured), then TCP or UDP (not on a tunnel port of the run's
 * decapsulation options). Nearly every record of a capture is such a frame.
 *
 * decodePlain() accepts a frame only when PacketDecoder.decode() would decode it to status Ok with
 * no anomaly, no fragment, no tunnel and the ports read, and then sets the fields the flow table and
 * the engine read of such a packet to the values decode() gives them: status, anomaly, truncated,
 * the VLAN tags, the IP version, addresses, protocol and fragment fields, ports, TCP flags, sequence
 * and acknowledgment numbers, the payload, the IP and transport offsets and lengths, the level and
 * tunnel fields (0), quotedValid (false). The fields of other layers (ICMP, quoted packets, the
 * tunnel stack, innerOffset...) keep whatever they held: nothing reads them when innerKind and
 * quotedValid are 0. Any other frame returns false (`out` may be partly written): the caller then
 * runs the general decoder, which resets it. test/decode/plain.test.ts checks the agreement on the
 * fixtures, the corpus and random frames.
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN } from './ethertype.js';
import type { DecodedPacket } from './types.js';

// Module-local constants: V8 folds them into optimized code (imported bindings are loads).
const ETH_LEN = 14;
const IPV4 = ETHERTYPE_IPV4;
const IPV6 = ETHERTYPE_IPV6;
const TPID_8021Q = ETHERTYPE_VLAN;
const TPID_8021AD = ETHERTYPE_QINQ;
const TPID_QINQ_OLD = ETHERTYPE_QINQ_OLD;
const TCP = 6;
const UDP = 17;
const LINKTYPE_ETHERNET = 1;

/**
 * Decodes the frame at buf[offset, offset + capLen) (LINKTYPE `linkType`, `origLen` on the wire)
 * into `out` when it is a plain TCP/UDP frame (see the file comment). `tunnelPorts`: the UDP ports
 * the run opens as tunnels (null: decapsulation off).
 */
export function decodePlain(
  out: DecodedPacket, buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number, tunnelPorts: Uint8Array | null,
): boolean {
  if ((linkType & 0xffff) !== LINKTYPE_ETHERNET) return false;
  let end = offset + capLen;
  if (end > buf.length) end = buf.length;
  if (end - offset < ETH_LEN) return false;
  let type = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  let l3 = offset + ETH_LEN;
  let vlanCount = 0;
  let vlanOuter = 0;
  let vlanInner = 0;
  if (type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ_OLD) {
    if (end - l3 < 4) return false;
    vlanOuter = ((buf[l3]! << 8) | buf[l3 + 1]!) & 0x0fff;
    type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
    l3 += 4;
    vlanCount = 1;
    if (type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ_OLD) {
      if (end - l3 < 4) return false;
      vlanInner = ((buf[l3]! << 8) | buf[l3 + 1]!) & 0x0fff;
      type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
      l3 += 4;
      vlanCount = 2;
      // A third tag is beyond MAX_VLAN_DEPTH: the general decoder's case.
      if (type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ_OLD) return false;
    }
  }
  const avail = end - l3;
  let l4: number;
  let ipEnd: number;
  let proto: number;
  let fragId = 0;
  if (type === IPV4) {
    if (avail < 20) return false;
    const vihl = buf[l3]!;
    const hlen = (vihl & 0x0f) << 2;
    if (vihl >> 4 !== 4 || hlen < 20) return false;
    const total = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
    // A zero total length (segmentation offload), a datagram cut by the capture or shorter than its
    // header, a fragment: the general decoder's cases.
    if (total < hlen || total > avail) return false;
    if ((((buf[l3 + 6]! << 8) | buf[l3 + 7]!) & 0x3fff) !== 0) return false;
    proto = buf[l3 + 9]!;
    if (proto !== TCP && proto !== UDP) return false;
    fragId = (buf[l3 + 4]! << 8) | buf[l3 + 5]!;
    l4 = l3 + hlen;
    ipEnd = l3 + total;
    out.src0 = out.src1 = out.src2 = 0;
    out.dst0 = out.dst1 = out.dst2 = 0;
    out.src3 = (buf[l3 + 12]! << 24) | (buf[l3 + 13]! << 16) | (buf[l3 + 14]! << 8) | buf[l3 + 15]!;
    out.dst3 = (buf[l3 + 16]! << 24) | (buf[l3 + 17]! << 16) | (buf[l3 + 18]! << 8) | buf[l3 + 19]!;
    out.ipVersion = 4;
    out.ipLength = total;
  } else if (type === IPV6) {
    if (avail < 40 || buf[l3]! >> 4 !== 6) return false;
    proto = buf[l3 + 6]!;
    if (proto !== TCP && proto !== UDP) return false;
    const plen = (buf[l3 + 4]! << 8) | buf[l3 + 5]!;
    // An empty payload (jumbogram, offload) or one cut by the capture: the general decoder's cases.
    if (plen === 0 || 40 + plen > avail) return false;
    l4 = l3 + 40;
    ipEnd = l4 + plen;
    out.src0 = (buf[l3 + 8]! << 24) | (buf[l3 + 9]! << 16) | (buf[l3 + 10]! << 8) | buf[l3 + 11]!;
    out.src1 = (buf[l3 + 12]! << 24) | (buf[l3 + 13]! << 16) | (buf[l3 + 14]! << 8) | buf[l3 + 15]!;
    out.src2 = (buf[l3 + 16]! << 24) | (buf[l3 + 17]! << 16) | (buf[l3 + 18]! << 8) | buf[l3 + 19]!;
    out.src3 = (buf[l3 + 20]! << 24) | (buf[l3 + 21]! << 16) | (buf[l3 + 22]! << 8) | buf[l3 + 23]!;
    out.dst0 = (buf[l3 + 24]! << 24) | (buf[l3 + 25]! << 16) | (buf[l3 + 26]! << 8) | buf[l3 + 27]!;
    out.dst1 = (buf[l3 + 28]! << 24) | (buf[l3 + 29]! << 16) | (buf[l3 + 30]! << 8) | buf[l3 + 31]!;
    out.dst2 = (buf[l3 + 32]! << 24) | (buf[l3 + 33]! << 16) | (buf[l3 + 34]! << 8) | buf[l3 + 35]!;
    out.dst3 = (buf[l3 + 36]! << 24) | (buf[l3 + 37]! << 16) | (buf[l3 + 38]! << 8) | buf[l3 + 39]!;
    out.ipVersion = 6;
    out.ipLength = 40 + plen;
  } else {
    return false;
  }
  // The transport header, within the datagram (which lies within the captured bytes).
  const seg = ipEnd - l4;
  let payload: number;
  let payloadEnd = ipEnd;
  let payloadLength: number;
  if (proto === TCP) {
    if (seg < 20) return false;
    const hlen = (buf[l4 + 12]! >> 4) << 2;
    if (hlen < 20 || hlen > seg) return false;
    out.tcpFlags = buf[l4 + 13]!;
    out.tcpSeq = (buf[l4 + 4]! << 24) | (buf[l4 + 5]! << 16) | (buf[l4 + 6]! << 8) | buf[l4 + 7]!;
    out.tcpAck = (buf[l4 + 8]! << 24) | (buf[l4 + 9]! << 16) | (buf[l4 + 10]! << 8) | buf[l4 + 11]!;
    payload = l4 + hlen;
    payloadLength = seg - hlen;
  } else {
    if (seg < 8) return false;
    const length = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
    // Length 0 (an IPv6 jumbogram), shorter than the header, longer than the datagram (an anomaly).
    if (length < 8 || length > seg) return false;
    if (tunnelPorts !== null && (tunnelPorts[(buf[l4]! << 8) | buf[l4 + 1]!]! | tunnelPorts[(buf[l4 + 2]! << 8) | buf[l4 + 3]!]!) !== 0) return false;
    out.tcpFlags = 0;
    out.tcpSeq = 0;
    out.tcpAck = 0;
    payload = l4 + 8;
    payloadEnd = l4 + length;
    payloadLength = length - 8;
  }
  out.srcPort = (buf[l4]! << 8) | buf[l4 + 1]!;
  out.dstPort = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
  out.status = 0;
  out.anomaly = 0;
  out.truncated = capLen < origLen;
  out.vlanCount = vlanCount;
  out.vlanOuter = vlanOuter;
  out.vlanInner = vlanInner;
  out.etherType = type;
  out.ethOffset = offset;
  out.l3Offset = l3;
  out.l4Offset = l4;
  out.ipProto = proto;
  out.fragment = 0;
  out.fragId = fragId;
  out.fragOffset = 0;
  out.hasPorts = true;
  out.icmpType = 0;
  out.icmpCode = 0;
  out.quotedValid = false;
  out.payloadOffset = payload;
  out.payloadCaptured = payloadEnd - payload;
  out.payloadLength = payloadLength;
  out.level = 0;
  out.tunnelDepth = 0;
  out.tunnelContext = 0;
  out.innerKind = 0;
  return true;
}
