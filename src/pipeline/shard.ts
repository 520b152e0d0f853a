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
 * Fast path (no full decode, on the reading thread): Ethernet with up to two VLAN tags, raw IP
 * link types; IPv4 unless ICMP, IPv6 whose next header is TCP or UDP. Everything else (other link
 * layers, LLC/SNAP, ICMP, IPv6 extension headers) is marked SLOW_BUCKET and every worker runs the
 * real decoder on it (rare records), which also reveals the packet an ICMP error quotes. Such an error is also "owned" by the worker of the quoted host pair (`quoteShard`),
 * which credits the quoted flow (FlowTable.creditQuoted) while the error's own worker counts it as a
 * packet of its ICMP flow.
 */
import { IpProto } from '../util/ip-proto.js';
import { LinkType } from '../capture/types.js';
import { PacketDecoder } from '../decode/decoder.js';
import { DecodeStatus, FragmentKind, type DecodedPacket } from '../decode/types.js';
import { PAIR_BUCKETS, pairBucket, pairHash } from '../flow/key.js';

const ETH_HEADER_LEN = 14;
const ETHER_MAX_LENGTH_FIELD = 1500;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const MAX_VLAN_DEPTH = 2;
const IPV4_MIN_HEADER_LEN = 20;
const IPV6_HEADER_LEN = 40;

/** Bucket value: the record needs the real decoder to tell its pair (and an ICMP error's quote). */
export const SLOW_BUCKET = 254;
/** Bucket value: no host pair (not IP, or cut before the addresses): worker 0 counts it. */
export const NO_PAIR_BUCKET = 255;

/**
 * The host-pair bucket of a record (0..PAIR_BUCKETS-1), SLOW_BUCKET or NO_PAIR_BUCKET, from the
 * link, VLAN and IP headers only. Allocates nothing.
 */
export function pairBucketOf(buf: Uint8Array, offset: number, capLen: number, linkType: number): number {
  let end = offset + capLen;
  if (end > buf.length) end = buf.length;
  const lt = linkType & 0xffff;
  let l3: number;
  let type: number;
  if (lt === LinkType.ETHERNET) {
    if (end - offset < ETH_HEADER_LEN) return NO_PAIR_BUCKET;
    type = (buf[offset + 12]! << 8) | buf[offset + 13]!;
    if (type <= ETHER_MAX_LENGTH_FIELD) return SLOW_BUCKET;
    l3 = offset + ETH_HEADER_LEN;
  } else if (lt === LinkType.RAW || lt === LinkType.IPV4 || lt === LinkType.IPV6) {
    if (end - offset < 1) return NO_PAIR_BUCKET;
    l3 = offset;
    const v = buf[offset]! >> 4;
    // A version that contradicts LINKTYPE_IPV4/IPV6 fails in the decoder: no flow, any answer.
    type = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0;
  } else {
    return SLOW_BUCKET;
  }
  let vlanCount = 0;
  let outer = 0;
  let inner = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (vlanCount === MAX_VLAN_DEPTH || end - l3 < 4) return NO_PAIR_BUCKET; // the decoder gives up: no flow
    const vid = ((buf[l3]! << 8) | buf[l3 + 1]!) & 0x0fff;
    if (vlanCount === 0) outer = vid;
    else inner = vid;
    vlanCount++;
    type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
    l3 += 4;
  }
  const vlan = ((vlanCount << 24) | (outer << 12) | inner) >>> 0;
  if (type === ETHERTYPE_IPV4) {
    if (end - l3 < IPV4_MIN_HEADER_LEN) return NO_PAIR_BUCKET;
    if (buf[l3 + 9] === IpProto.ICMP) return SLOW_BUCKET;
    const s = ((buf[l3 + 12]! << 24) | (buf[l3 + 13]! << 16) | (buf[l3 + 14]! << 8) | buf[l3 + 15]!) >>> 0;
    const d = ((buf[l3 + 16]! << 24) | (buf[l3 + 17]! << 16) | (buf[l3 + 18]! << 8) | buf[l3 + 19]!) >>> 0;
    return pairBucket(pairHash(0, 0, 0, s, 0, 0, 0, d, vlan));
  }
  if (type === ETHERTYPE_IPV6) {
    if (end - l3 < IPV6_HEADER_LEN) return NO_PAIR_BUCKET;
    const nh = buf[l3 + 6];
    if (nh !== IpProto.TCP && nh !== IpProto.UDP) return SLOW_BUCKET;
    return pairBucket(pairHash(
      word(buf, l3 + 8), word(buf, l3 + 12), word(buf, l3 + 16), word(buf, l3 + 20),
      word(buf, l3 + 24), word(buf, l3 + 28), word(buf, l3 + 32), word(buf, l3 + 36),
      vlan,
    ));
  }
  return NO_PAIR_BUCKET;
}

export class ShardPicker {
  /** After owner()/pick(): the worker owning the host pair an ICMP error quotes, or -1. */
  quoteShard = -1;
  /** After owner()/pick(): the decoded packet when the slow path ran (valid until the next call), else null. */
  decoded: DecodedPacket | null = null;
  private readonly shardOfBucket: Int32Array;
  private readonly decoder = new PacketDecoder();

  constructor(workers: number) {
    this.shardOfBucket = new Int32Array(PAIR_BUCKETS);
    for (let b = 0; b < PAIR_BUCKETS; b++) this.shardOfBucket[b] = b % workers;
  }

  /** The worker (0..workers-1) owning a record whose pairBucketOf() is `bucket`. */
  owner(bucket: number, buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    this.quoteShard = -1;
    this.decoded = null;
    if (bucket < PAIR_BUCKETS) return this.shardOfBucket[bucket]!;
    if (bucket === NO_PAIR_BUCKET) return 0;
    return this.slow(buf, offset, capLen, origLen, linkType);
  }

  /** The worker owning a record (pairBucketOf + owner). */
  pick(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    return this.owner(pairBucketOf(buf, offset, capLen, linkType), buf, offset, capLen, origLen, linkType);
  }

  /** The decoder's answer (rare link types, LLC/SNAP, ICMP, IPv6 extension headers). */
  private slow(buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): number {
    const p = this.decoder.decode(buf, offset, capLen, origLen, linkType);
    this.decoded = p;
    if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) return 0;
    const vlan = ((p.vlanCount << 24) | (p.vlanOuter << 12) | p.vlanInner) >>> 0;
    if (p.hasPorts && p.quotedValid && p.fragment !== FragmentKind.Later) {
      this.quoteShard = this.shardOfBucket[pairBucket(pairHash(
        p.quotedSrc0, p.quotedSrc1, p.quotedSrc2, p.quotedSrc3, p.quotedDst0, p.quotedDst1, p.quotedDst2, p.quotedDst3, vlan,
      ))]!;
    }
    return this.shardOfBucket[pairBucket(pairHash(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, vlan))]!;
  }
}

function word(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
