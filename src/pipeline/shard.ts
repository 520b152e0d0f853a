/**
 * Which worker owns a record.
 *
 * The reading thread computes each record's host-pair bucket (pairBucketOf) while it walks the
 * records, when the bytes are still in its cache, and writes it into the chunk index; each worker
 * maps the bucket to a worker (bucket % workers). Measured on the 5M-packet benchmark capture: with
 * every worker extracting the addresses itself, each worker spent ~80 ns per record of the whole
 * capture on it (mostly the first touch of each record's cache line on that core), against ~30 ns
 * once, on the reading thread, which has just parsed the record header next to those bytes.
 *
 * A record belongs to the worker of its host pair: pairBucket(pairHash(src, dst, VLAN)) % workers
 * (flow/key.ts). Ports are left out on purpose, so later IP fragments (no ports) land with their
 * first fragment. The extractor must give the same addresses and VLAN key as the decoder for every
 * record the decoder turns into a flow packet; for records the decoder does not put in a flow (not
 * IP, cut, malformed) any single answer will do, and such records go to worker 0, which counts them
 * exactly once.
 *
 * Fast path (on the reading thread, no full decode): the decoder's own link-layer and VLAN code
 * (decodeLinkLayer, decodeVlanTags) finds the IP header exactly where the decoder does, for every
 * link type; the addresses are read at the decoder's offsets (decode/ipv4.ts, ipv6.ts). IPv4
 * unless ICMP, IPv6 whose next header is TCP or UDP. ICMP (whose errors quote another packet) and
 * IPv6 extension headers are marked SLOW_BUCKET and every worker runs the real decoder on them
 * (rare records), which also reveals the packet an ICMP error quotes. Such an error is also
 * "owned" by the worker of the quoted host pair (`quoteShard`), which credits the quoted flow
 * (FlowTable.creditQuoted) while the error's own worker counts it as a packet of its ICMP flow.
 *
 * Tunnels: a tunnelled frame holds one flow packet per level (the outer UDP/GRE packet, the packet
 * inside), each between its own pair of hosts. Anything that may be a tunnel (a UDP port of the
 * decapsulation table, IP protocols 4/41/47/137, MPLS and PPPoE EtherTypes) is SLOW_BUCKET, so every
 * worker decodes it: the frame's own level belongs to the worker of its pair as before, and each
 * level inside to the worker of that level's pair (levelOwner), which processes it (Engine.handle /
 * handleInner). The fast path must therefore never let through a record the decoder would open.
 */
import { IpProto } from '../util/ip-proto.js';
import { u16be, u32be } from '../util/bytes.js';
import { LinkType } from '../capture/types.js';
import { udpTunnelPorts, type DecapOptions } from '../decode/decap-options.js';
import { decodeLinkLayer, PacketDecoder } from '../decode/decoder.js';
import { ETH_HEADER_LEN, ETH_TYPE } from '../decode/ethernet.js';
import {
  ETHER_MAX_LENGTH_FIELD, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS_MC, ETHERTYPE_MPLS_UC, ETHERTYPE_PPPOE_SESSION,
} from '../decode/ethertype.js';
import { IPV4_DST, IPV4_MIN_HEADER_LEN, IPV4_PROTO, IPV4_SRC } from '../decode/ipv4.js';
import { IPV6_DST, IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_SRC } from '../decode/ipv6.js';
import { DecodedPacket, DecodeStatus, FragmentKind } from '../decode/types.js';
import { decodeVlanTags, isVlanTpid } from '../decode/vlan.js';
import { PAIR_BUCKETS, pairBucket, pairHash, vlanKey } from '../flow/key.js';

/** Bucket value: the record needs the real decoder to tell its pair (and an ICMP error's quote). */
export const SLOW_BUCKET = 254;
/** Bucket value: no host pair (not IP, or cut before the addresses): worker 0 counts it. */
export const NO_PAIR_BUCKET = 255;

// Module-local copies of the decoder's definitions used per record: V8 folds a module's own
// constants into optimized code but reads an imported binding (and checks it is initialised) on
// every use, which cost this function ~5 ns per record (24 -> 29 ns, in cache) when it read them
// directly.
const ETHERNET = LinkType.ETHERNET;
const ETH_LEN = ETH_HEADER_LEN;
const ETH_TYPE_AT = ETH_TYPE;
const MAX_LENGTH_FIELD = ETHER_MAX_LENGTH_FIELD;
const IPV4 = ETHERTYPE_IPV4;
const IPV6 = ETHERTYPE_IPV6;
const IPV4_MIN = IPV4_MIN_HEADER_LEN;
const IPV4_PROTO_AT = IPV4_PROTO;
const IPV4_SRC_AT = IPV4_SRC;
const IPV4_DST_AT = IPV4_DST;
const IPV6_LEN = IPV6_HEADER_LEN;
const IPV6_NEXT_AT = IPV6_NEXT_HEADER;
const IPV6_SRC_AT = IPV6_SRC;
const IPV6_DST_AT = IPV6_DST;
const ICMP = IpProto.ICMP;
const TCP = IpProto.TCP;
const UDP = IpProto.UDP;
const IPIP = IpProto.IPIP;
const IP6_IN_IP = IpProto.IPV6;
const GRE = IpProto.GRE;
const MPLS_IN_IP = IpProto.MPLS_IN_IP;
const MPLS_UC = ETHERTYPE_MPLS_UC;
const MPLS_MC = ETHERTYPE_MPLS_MC;
const PPPOE_SESSION = ETHERTYPE_PPPOE_SESSION;

/** The UDP tunnel ports of the default decapsulation options (pairBucketOf's default). */
export const DEFAULT_TUNNEL_PORTS: Uint8Array | null = udpTunnelPorts();

/** Whether a UDP header at `l4` (captured up to `end`) names a tunnel port. */
function udpTunnelPort(buf: Uint8Array, l4: number, end: number, ports: Uint8Array): boolean {
  if (end - l4 < 4) return false; // the decoder cannot read the ports either
  return (ports[u16be(buf, l4)]! | ports[u16be(buf, l4 + 2)]!) !== 0;
}

/** Output of the decoder's link and VLAN layers when they run here (l3Offset, VLAN ids). */
const scratch = new DecodedPacket();

/**
 * The host-pair bucket of a record (0..PAIR_BUCKETS-1), SLOW_BUCKET or NO_PAIR_BUCKET, from the
 * link, VLAN and IP headers only. `tunnels`: the UDP tunnel port table of the run's DecapOptions
 * (udpTunnelPorts; null when decapsulation is off). Allocates nothing.
 */
export function pairBucketOf(
  buf: Uint8Array, offset: number, capLen: number, linkType: number, tunnels: Uint8Array | null = DEFAULT_TUNNEL_PORTS,
): number {
  let end = offset + capLen;
  if (end > buf.length) end = buf.length;
  let type: number;
  let l3: number;
  if ((linkType & 0xffff) === ETHERNET && end - offset >= ETH_LEN && (type = u16be(buf, offset + ETH_TYPE_AT)) > MAX_LENGTH_FIELD) {
    // Ethernet II, nearly every record: decodeEthernet's answer without the call.
    l3 = offset + ETH_LEN;
  } else {
    // Every other link layer (and 802.3 + LLC/SNAP): the decoder's own code.
    type = decodeLinkLayer(scratch, buf, offset, end, linkType);
    // The decoder makes no flow of a frame its link layer rejects: any answer will do.
    if (type < 0) return NO_PAIR_BUCKET;
    l3 = scratch.l3Offset;
  }
  let vlan = 0;
  if (isVlanTpid(type)) {
    const out = scratch;
    out.l3Offset = l3;
    out.vlanCount = out.vlanOuter = out.vlanInner = 0;
    type = decodeVlanTags(out, buf, type, end);
    if (type < 0) return NO_PAIR_BUCKET;
    l3 = out.l3Offset;
    vlan = vlanKey(out);
  }
  if (type === IPV4) {
    if (end - l3 < IPV4_MIN) return NO_PAIR_BUCKET;
    const proto = buf[l3 + IPV4_PROTO_AT]!;
    if (proto === ICMP) return SLOW_BUCKET;
    if (tunnels !== null) {
      if (proto === UDP) {
        if (udpTunnelPort(buf, l3 + ((buf[l3]! & 0x0f) << 2), end, tunnels)) return SLOW_BUCKET;
      } else if (proto === IPIP || proto === IP6_IN_IP || proto === GRE || proto === MPLS_IN_IP) {
        return SLOW_BUCKET;
      }
    }
    return pairBucket(pairHash(0, 0, 0, u32be(buf, l3 + IPV4_SRC_AT), 0, 0, 0, u32be(buf, l3 + IPV4_DST_AT), vlan));
  }
  if (type === IPV6) {
    if (end - l3 < IPV6_LEN) return NO_PAIR_BUCKET;
    const nh = buf[l3 + IPV6_NEXT_AT];
    if (nh !== TCP && nh !== UDP) return SLOW_BUCKET;
    if (nh === UDP && tunnels !== null && udpTunnelPort(buf, l3 + IPV6_LEN, end, tunnels)) return SLOW_BUCKET;
    const s = l3 + IPV6_SRC_AT;
    const d = l3 + IPV6_DST_AT;
    return pairBucket(pairHash(
      u32be(buf, s), u32be(buf, s + 4), u32be(buf, s + 8), u32be(buf, s + 12),
      u32be(buf, d), u32be(buf, d + 4), u32be(buf, d + 8), u32be(buf, d + 12),
      vlan,
    ));
  }
  // Link-level encapsulations: the decoder finds the IP packet (and its pair) behind them.
  if (tunnels !== null && (type === MPLS_UC || type === MPLS_MC || type === PPPOE_SESSION)) return SLOW_BUCKET;
  return NO_PAIR_BUCKET;
}

/** The worker (0..workers-1) owning a decoded packet of any level: the worker of its host pair. */
export function levelOwner(p: DecodedPacket, workers: number): number {
  return pairBucket(pairHash(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, vlanKey(p))) % workers;
}

/** The worker owning the flow an ICMP error (of any level) quotes. */
export function quoteOwner(p: DecodedPacket, workers: number): number {
  return pairBucket(pairHash(p.quotedSrc0, p.quotedSrc1, p.quotedSrc2, p.quotedSrc3, p.quotedDst0, p.quotedDst1, p.quotedDst2, p.quotedDst3, vlanKey(p))) % workers;
}

export class ShardPicker {
  /** After owner()/pick(): the worker owning the host pair an ICMP error quotes, or -1. */
  quoteShard = -1;
  /** After owner()/pick(): the decoded packet when the slow path ran (valid until the next call), else null. */
  decoded: DecodedPacket | null = null;
  /** After owner()/pick(): the record's frame level carries a tunnel (levels inside it may belong to any worker). */
  tunnelled = false;
  private readonly shardOfBucket: Int32Array;
  private readonly decoder: PacketDecoder;
  private readonly tunnels: Uint8Array | null;

  /** `decap`: the run's decapsulation options (the same as the engines'). */
  constructor(workers: number, decap?: DecapOptions) {
    this.decoder = new PacketDecoder(decap);
    this.tunnels = decap === undefined ? DEFAULT_TUNNEL_PORTS : udpTunnelPorts(decap);
    this.shardOfBucket = new Int32Array(PAIR_BUCKETS);
    for (let b = 0; b < PAIR_BUCKETS; b++) this.shardOfBucket[b] = b % workers;
  }

  /** The worker (0..workers-1) owning a record whose pairBucketOf() is `bucket`. */
  owner(bucket: number, buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    this.quoteShard = -1;
    this.decoded = null;
    this.tunnelled = false;
    if (bucket < PAIR_BUCKETS) return this.shardOfBucket[bucket]!;
    if (bucket === NO_PAIR_BUCKET) return 0;
    return this.slow(buf, offset, capLen, origLen, linkType);
  }

  /** The worker owning a record (pairBucketOf + owner). */
  pick(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    return this.owner(pairBucketOf(buf, offset, capLen, linkType, this.tunnels), buf, offset, capLen, origLen, linkType);
  }

  /** The decoder's answer (ICMP, IPv6 extension headers, tunnels). */
  private slow(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    const p = this.decoder.decode(buf, offset, capLen, origLen, linkType);
    this.decoded = p;
    if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) return 0;
    this.tunnelled = p.innerKind !== 0;
    const vlan = vlanKey(p);
    if (p.hasPorts && p.quotedValid && p.fragment !== FragmentKind.Later) {
      this.quoteShard = this.shardOfBucket[pairBucket(pairHash(
        p.quotedSrc0, p.quotedSrc1, p.quotedSrc2, p.quotedSrc3, p.quotedDst0, p.quotedDst1, p.quotedDst2, p.quotedDst3, vlan,
      ))]!;
    }
    return this.shardOfBucket[pairBucket(pairHash(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, vlan))]!;
  }
}
