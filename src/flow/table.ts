/**
 * The flow table: bidirectional flows in typed arrays behind an open-addressing index (linear
 * probing, backward-shift deletion). No Map, no string keys, no objects per packet: a string-keyed
 * Map was measured ~3x slower. What every packet touches (key, counters, last time, flags, history
 * bits) is one 128-byte row per flow; what is written once or read at the end (first time, RTT,
 * anomalies, the key again as separate columns for readers) stays in columns. An index entry is
 * one word (slot and a hash tag), and the index grows with the live flows instead of being sized
 * for --max-flows up front: tens of thousands of live flows keep it in the core's L2 cache.
 *
 * A flow holds transport facts only (Zeek's conn.log): endpoints, who is client, counts per
 * direction, times, TCP state and history, anomalies. The service verdict lives in classify/, fed
 * through the FlowObserver hooks.
 *
 * Slots are recycled; `serial` (the ordinal of the flow's first packet in the capture) identifies a
 * flow for good and orders output deterministically whatever the slot numbers are.
 *
 * End order. Every ended flow has an end key (trigger, phase, last): `trigger` is the ordinal of the
 * record during which it ended (currentOrdinal; END_OF_CAPTURE_TRIGGER for flush()), `phase` is its
 * FlowEndReason (within one record: idle sweep, active cuts, port reuse, eviction; then the end of
 * capture), and `last` is the ordinal of its last packet (lastOrdinal). Flows end in increasing
 * end-key order, and which flows end at a given key does not depend on the other flows in the table
 * (except for evictions, which depend on the table's capacity): this is what lets the worker pipeline
 * split flows over several tables and merge their output into exactly the single-table order.
 */
import { Anomaly } from '../util/anomaly.js';
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import { IcmpQuery, icmpQueryKind } from '../decode/icmp.js';
import { DecodeStatus, FragmentKind, TcpFlag, type DecodedPacket } from '../decode/types.js';
import { canonicalKeyHash, compareEndpoints } from './key.js';
import { FragmentTable } from './fragments.js';

export const FlowEndReason = {
  IdleTimeout: 0,
  ActiveTimeout: 1,
  PortReuse: 2,
  Evicted: 3,
  EndOfCapture: 4,
} as const;
export const FLOW_END_REASON_NAMES = ['idle-timeout', 'active-timeout', 'port-reuse', 'evicted', 'end-of-capture'] as const;
/** The trigger ordinal of flows ended by flush() (after every record). */
export const END_OF_CAPTURE_TRIGGER = Number.MAX_SAFE_INTEGER;

/** How the client/server roles were decided (recorded per flow). */
export const DirectionBasis = {
  Syn: 0,
  SynAck: 1,
  IcmpEcho: 2,
  PortMap: 3,
  WellKnownPort: 4,
  FirstPacket: 5,
} as const;
export const DIRECTION_BASIS_NAMES = ['syn', 'syn-ack', 'icmp-echo', 'port-map', 'well-known-port', 'first-packet'] as const;

/** Per-flow TCP/handshake facts (bit flags). */
export const FlowFlag = {
  ClientSyn: 1 << 0,
  ServerSynAck: 1 << 1,
  HandshakeDone: 1 << 2,
  ClientFin: 1 << 3,
  ServerFin: 1 << 4,
  ClientRst: 1 << 5,
  ServerRst: 1 << 6,
  ClientSent: 1 << 7,
  ServerSent: 1 << 8,
  /** This record continues a flow cut by the active timeout. */
  Continued: 1 << 9,
  /** Client SYN with payload-less first packet is the norm; SYN seen at any time. */
  SynSeen: 1 << 10,
  /** Cut by the active timeout and no packet since: the next packet sets the first time. */
  AwaitFirst: 1 << 11,
} as const;

/** Zeek conn history letters: client uppercase, server lowercase; each letter once. */
const HISTORY_LETTERS = 'SHADFRshadfr';
const H_SYN = 0;
const H_SYNACK = 1;
const H_ACK = 2;
const H_DATA = 3;
const H_FIN = 4;
const H_RST = 5;
export const HISTORY_MAX = 12;

/** Anomaly codes kept per flow (code, count) pairs; more distinct codes fold into the last pair. */
export const FLOW_ANOMALY_PAIRS = 4;

/** Server-likeness of a port, higher is more likely the server side. */
export const PortRank = {
  Ephemeral: 0, // >= 49152
  Registered: 1, // 1024..49151
  WellKnown: 2, // < 1024
  PortMap: 3, // documented in the loaded port map
} as const;

export interface FlowObserver {
  /** A flow was created (roles decided). */
  flowStarted(slot: number): void;
  /**
   * Payload of a packet on a flow with `inspecting(slot)` on. `buf` is valid only during the call.
   * The observer turns it off (`setInspect(slot, false)`) once it has seen enough.
   */
  payload(slot: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void;
  /** The flow ends; its columns are still readable during the call, the slot is recycled after. */
  flowEnded(slot: number, reason: number): void;
}

export interface FlowTableOptions {
  /** Bound on live flows; the least recently seen flow is evicted when full. */
  maxFlows: number;
  /** Seconds of capture time without packets after which a flow ends. */
  idleTimeout: number;
  /** Seconds after a flow's first packet at which its record is cut and continued (0 = never). */
  activeTimeout: number;
  /** Per-transport 65536-entry maps of documented server ports (value 1 = documented). */
  documentedPorts?: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
}

/** True when an ICMP error's quoted packet is between the same two hosts as the error itself. */
function quotesOwnPair(p: DecodedPacket): boolean {
  const sameDir = p.src0 === p.quotedSrc0 && p.src1 === p.quotedSrc1 && p.src2 === p.quotedSrc2 && p.src3 === p.quotedSrc3 &&
    p.dst0 === p.quotedDst0 && p.dst1 === p.quotedDst1 && p.dst2 === p.quotedDst2 && p.dst3 === p.quotedDst3;
  if (sameDir) return true;
  return p.src0 === p.quotedDst0 && p.src1 === p.quotedDst1 && p.src2 === p.quotedDst2 && p.src3 === p.quotedDst3 &&
    p.dst0 === p.quotedSrc0 && p.dst1 === p.quotedSrc1 && p.dst2 === p.quotedSrc2 && p.dst3 === p.quotedSrc3;
}

/**
 * Row layout. Everything a packet of a known flow reads or writes lives in one 128-byte row (two
 * adjacent cache lines): the key that lookups compare, then the counters. As separate columns these
 * were ~15 scattered cache lines per packet; the row is two, and the second is usually fetched by
 * the adjacent-line prefetcher. Offsets are in int32 units (ROW_I32 per row); the f64 fields sit at
 * even int32 offsets and are addressed as f64 word = offset / 2.
 */
const ROW_F64 = 16;
const ROW_I32 = ROW_F64 * 2;
const ROW_BYTES = ROW_F64 * 8;
// int32 words: the key (canonical: endpoint A <= endpoint B).
const K_A = 0; // a0..a3
const K_B = 4; // b0..b3
const K_PORTS = 8; // aPort << 16 | bPort
const K_PROTO = 9;
const K_VLAN = 10;
// f64 words.
const F_LAST_ORDINAL = 6;
const F_PKTS_TO_SERVER = 7;
const F_PKTS_TO_CLIENT = 8;
const F_BYTES_TO_SERVER = 9;
const F_BYTES_TO_CLIENT = 10;
const F_PAYLOAD_TO_SERVER = 11;
const F_PAYLOAD_TO_CLIENT = 12;
const F_LAST_SEC = 13;
// int32 words after the f64 ones.
const I_LAST_NSEC = 28;
const I_FLAGS = 29;
// bytes / uint16 words of the last int32 pair.
const B_CLIENT_IS_A = 120;
const B_INSPECT = 121;
const H_HISTORY_SEEN = 61; // bytes 122-123
const B_HISTORY_LEN = 124;

/** Index entries to start with; the index doubles whenever it is half full, up to 2 x capacity. */
const INITIAL_INDEX_ENTRIES = 4096;

function nextPow2(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

export class FlowTable {
  readonly capacity: number;
  /** Entries - 1 (a power of two minus one). */
  private mask: number;
  /**
   * One word per entry (0 = empty): slot + 1 in the low bits (`slotMask`), the key hash's other
   * bits above them as a tag. Half the size of (slot, hash) pairs, so the index of a few ten
   * thousand flows stays in the core's L2 cache. A tag match (rarely a false one) is confirmed
   * against the key in the row.
   */
  private index: Int32Array;
  private readonly slotMask: number;
  /** One row per slot (see ROW_F64): the key and the per-packet counters, in four views. */
  private readonly rowF64: Float64Array;
  private readonly rowI32: Int32Array;
  private readonly rowU16: Uint16Array;
  private readonly rowU8: Uint8Array;
  private readonly maxEntries: number;

  // Key columns (canonical: endpoint A <= endpoint B).
  readonly a0: Uint32Array; readonly a1: Uint32Array; readonly a2: Uint32Array; readonly a3: Uint32Array;
  readonly b0: Uint32Array; readonly b1: Uint32Array; readonly b2: Uint32Array; readonly b3: Uint32Array;
  readonly aPort: Uint16Array; readonly bPort: Uint16Array;
  readonly proto: Uint8Array; readonly ipVersion: Uint8Array;
  /** vlanCount << 24 | outer << 12 | inner. */
  readonly vlan: Uint32Array;
  readonly hash: Uint32Array;

  // Facts.
  readonly serial: Float64Array;
  readonly basis: Uint8Array;
  readonly firstSec: Float64Array; readonly firstNsec: Uint32Array;
  readonly synSec: Float64Array; readonly synNsec: Uint32Array;
  /** Handshake RTT (client SYN to client's ACK of the SYN-ACK) in nanoseconds; -1 unknown. */
  readonly rttNs: Float64Array;
  readonly history: Uint8Array;
  readonly anomalyCode: Uint8Array;
  readonly anomalyCount: Uint32Array;
  readonly icmpErrors: Uint32Array;

  // LRU list by last packet (head = least recent): prev at 2 * slot, next at 2 * slot + 1. And the free list.
  private readonly lru: Int32Array;
  private lruHead = -1;
  private lruTail = -1;
  private readonly free: Int32Array;
  private freeTop: number;

  private readonly frags = new FragmentTable();
  private readonly rankTcp: Uint8Array;
  private readonly rankUdp: Uint8Array;
  private readonly rankSctp: Uint8Array;
  private readonly rankOther: Uint8Array;

  private readonly idleTimeout: number;
  private readonly activeTimeout: number;
  private nextSweepSec = -Infinity;
  /** Highest capture second seen, and the largest step back in time below it (out-of-order records). */
  private maxSec = -Infinity;
  private backstep = 0;
  /** Ordinal of the record being processed (the trigger of the flows it ends); -1 before the first. */
  currentOrdinal = -1;
  private observer: FlowObserver | null = null;

  /** Live flows. */
  live = 0;
  /**
   * Every slot below this has held a flow; the live ones have serial >= 0 (isLive). A walk over
   * [0, slotHighWater) reads memory in order, unlike the LRU list (snapshots at 1M flows).
   */
  slotHighWater = 0;
  /** Flows created in all. */
  created = 0;
  evicted = 0;
  /** Packets that could not be attributed to any flow (no ports, unmatched later fragment, ...). */
  unattributed = 0;
  /** Anomalies raised by the flow layer itself, by id (ip_fragment_without_first, flow_evicted, ...). */
  readonly flowAnomalies = new Float64Array(64);

  constructor(opts: FlowTableOptions) {
    const cap = Math.max(16, Math.floor(opts.maxFlows));
    this.capacity = cap;
    this.maxEntries = nextPow2(cap * 2);
    const entries = Math.min(this.maxEntries, INITIAL_INDEX_ENTRIES);
    this.mask = entries - 1;
    this.index = new Int32Array(entries);
    // Bits for slot + 1 (at most cap); the remaining high bits of the entry carry the hash tag.
    this.slotMask = cap >= 0x7fffffff ? -1 : (2 ** (32 - Math.clz32(cap)) - 1) | 0;
    this.rowF64 = new Float64Array(cap * ROW_F64);
    this.rowI32 = new Int32Array(this.rowF64.buffer);
    this.rowU16 = new Uint16Array(this.rowF64.buffer);
    this.rowU8 = new Uint8Array(this.rowF64.buffer);
    this.a0 = new Uint32Array(cap); this.a1 = new Uint32Array(cap); this.a2 = new Uint32Array(cap); this.a3 = new Uint32Array(cap);
    this.b0 = new Uint32Array(cap); this.b1 = new Uint32Array(cap); this.b2 = new Uint32Array(cap); this.b3 = new Uint32Array(cap);
    this.aPort = new Uint16Array(cap); this.bPort = new Uint16Array(cap);
    this.proto = new Uint8Array(cap); this.ipVersion = new Uint8Array(cap);
    this.vlan = new Uint32Array(cap);
    this.hash = new Uint32Array(cap);
    this.serial = new Float64Array(cap);
    this.basis = new Uint8Array(cap);
    this.firstSec = new Float64Array(cap); this.firstNsec = new Uint32Array(cap);
    this.synSec = new Float64Array(cap); this.synNsec = new Uint32Array(cap);
    this.rttNs = new Float64Array(cap);
    this.history = new Uint8Array(cap * HISTORY_MAX);
    this.anomalyCode = new Uint8Array(cap * FLOW_ANOMALY_PAIRS);
    this.anomalyCount = new Uint32Array(cap * FLOW_ANOMALY_PAIRS);
    this.icmpErrors = new Uint32Array(cap);
    this.lru = new Int32Array(cap * 2);
    this.free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.free[i] = cap - 1 - i; // pop gives slot 0 first
    this.freeTop = cap;
    this.idleTimeout = opts.idleTimeout;
    this.activeTimeout = opts.activeTimeout;

    this.rankOther = FlowTable.baseRanks(undefined);
    this.rankTcp = FlowTable.baseRanks(opts.documentedPorts?.tcp);
    this.rankUdp = FlowTable.baseRanks(opts.documentedPorts?.udp);
    this.rankSctp = FlowTable.baseRanks(opts.documentedPorts?.sctp);
  }

  private static baseRanks(documented: Uint8Array | undefined): Uint8Array {
    const r = new Uint8Array(65536);
    for (let p = 0; p < 65536; p++) {
      r[p] = documented !== undefined && documented[p] ? PortRank.PortMap : p < 1024 ? PortRank.WellKnown : p < 49152 ? PortRank.Registered : PortRank.Ephemeral;
    }
    return r;
  }

  setObserver(observer: FlowObserver | null): void {
    this.observer = observer;
  }

  // Row fields, for readers outside the hot path (records, statistics, the classifier).
  packetsToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_PKTS_TO_SERVER]!; }
  packetsToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_PKTS_TO_CLIENT]!; }
  bytesToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_BYTES_TO_SERVER]!; }
  bytesToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_BYTES_TO_CLIENT]!; }
  payloadToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_PAYLOAD_TO_SERVER]!; }
  payloadToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_PAYLOAD_TO_CLIENT]!; }
  /** Ordinal of the flow's last packet (the LRU list is in this order). */
  lastOrdinal(s: number): number { return this.rowF64[s * ROW_F64 + F_LAST_ORDINAL]!; }
  lastSec(s: number): number { return this.rowF64[s * ROW_F64 + F_LAST_SEC]!; }
  lastNsec(s: number): number { return this.rowI32[s * ROW_I32 + I_LAST_NSEC]! >>> 0; }
  /** FlowFlag bits. */
  flags(s: number): number { return this.rowI32[s * ROW_I32 + I_FLAGS]!; }
  /** True when endpoint A of the key is the client. */
  clientIsA(s: number): boolean { return this.rowU8[s * ROW_BYTES + B_CLIENT_IS_A] === 1; }
  /** Whether the observer gets this flow's payloads (the classifier turns it off once it has seen enough). */
  inspecting(s: number): boolean { return this.rowU8[s * ROW_BYTES + B_INSPECT] !== 0; }
  setInspect(s: number, on: boolean): void { this.rowU8[s * ROW_BYTES + B_INSPECT] = on ? 1 : 0; }

  /**
   * Account one decoded packet. `ordinal` is the packet's position in the capture (0-based), used as
   * the serial of a flow it creates. Returns the flow slot, or -1 when not attributed.
   */
  process(p: DecodedPacket, ordinal: number, tsSec: number, tsNsec: number, wireLen: number, buf: Uint8Array): number {
    this.clock(tsSec, ordinal);
    if (p.ipVersion === 0 || p.status === DecodeStatus.NotIp) return -1;

    if (p.fragment === FragmentKind.Later) return this.laterFragment(p, ordinal, tsSec, tsNsec, wireLen);

    let proto = p.ipProto;
    if (!p.hasPorts) {
      // Transport header missing (truncated/malformed): no 5-tuple. tshark leaves such frames out of
      // its conversation tables too. Protocols without ports (GRE, ESP, ...) still form flows.
      if (proto === IpProto.TCP || proto === IpProto.UDP || proto === IpProto.SCTP || isIcmpProto(proto)) {
        this.unattributed++;
        return -1;
      }
    } else if (p.quotedValid && quotesOwnPair(p)) {
      // An ICMP error from one of the two hosts of the flow it quotes (port unreachable from the
      // destination, ...): credit it there, not as a packet. Errors from a third host (a router)
      // are packets of their own ICMP flow; see creditQuoted().
      const q = this.findQuoted(p);
      if (q >= 0) {
        this.icmpErrors[q]!++;
        return q;
      }
    }

    const sPort = p.hasPorts ? p.srcPort : 0;
    const dPort = p.hasPorts ? p.dstPort : 0;
    const vlan = ((p.vlanCount << 24) | (p.vlanOuter << 12) | p.vlanInner) >>> 0;
    const srcIsA = compareEndpoints(p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort) <= 0;
    const h = srcIsA
      ? canonicalKeyHash(p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort, proto, vlan)
      : canonicalKeyHash(p.dst0, p.dst1, p.dst2, p.dst3, dPort, p.src0, p.src1, p.src2, p.src3, sPort, proto, vlan);
    let slot = this.findPacket(h, p, srcIsA, sPort, dPort, proto, vlan);

    const flagsTcp = proto === IpProto.TCP ? p.tcpFlags : 0;
    if (slot >= 0 && (flagsTcp & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN && this.isClosed(slot)) {
      // A fresh SYN on a finished connection: the 5-tuple is being reused by a new connection.
      this.endFlow(slot, FlowEndReason.PortReuse);
      this.flowAnomalies[Anomaly.tcp_port_reuse]!++;
      slot = -1;
    }
    if (slot < 0) {
      slot = this.allocate();
      if (srcIsA) this.setKey(slot, p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort, proto, vlan);
      else this.setKey(slot, p.dst0, p.dst1, p.dst2, p.dst3, dPort, p.src0, p.src1, p.src2, p.src3, sPort, proto, vlan);
      this.ipVersion[slot] = p.ipVersion;
      this.hash[slot] = h;
      this.insertIndex(slot, h);
      this.initFlow(slot, ordinal, tsSec, tsNsec);
      const srcIsClient = this.decideRoles(slot, p, proto, sPort, dPort);
      this.rowU8[slot * ROW_BYTES + B_CLIENT_IS_A] = srcIsClient === srcIsA ? 1 : 0;
      this.observer?.flowStarted(slot);
    } else {
      this.touch(slot);
    }

    const toServer = srcIsA === (this.rowU8[slot * ROW_BYTES + B_CLIENT_IS_A] === 1);
    this.account(slot, ordinal, toServer, tsSec, tsNsec, wireLen, p);
    if (p.fragment === FragmentKind.First) {
      this.frags.remember(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, proto, p.fragId, vlan, slot, this.serial[slot]!, toServer);
    }
    if (flagsTcp !== 0 || proto === IpProto.TCP) this.tcpUpdate(slot, toServer, flagsTcp, tsSec, tsNsec, p.payloadLength);
    else this.historyAdd(slot, toServer ? H_DATA : 6 + H_DATA);
    if (p.payloadCaptured > 0 && this.rowU8[slot * ROW_BYTES + B_INSPECT] !== 0 && this.observer !== null) {
      this.observer.payload(slot, toServer, buf, p.payloadOffset, p.payloadCaptured);
    }
    return slot;
  }

  private laterFragment(p: DecodedPacket, ordinal: number, tsSec: number, tsNsec: number, wireLen: number): number {
    const vlan = ((p.vlanCount << 24) | (p.vlanOuter << 12) | p.vlanInner) >>> 0;
    const e = this.frags.find(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, p.ipProto, p.fragId, vlan);
    const slot = e >= 0 ? this.frags.slotOf(e) : -1;
    if (slot < 0 || this.serial[slot] !== this.frags.serialOf(e)) {
      this.flowAnomalies[Anomaly.ip_fragment_without_first]!++;
      this.unattributed++;
      return -1;
    }
    this.touch(slot);
    this.account(slot, ordinal, this.frags.isToServer(e), tsSec, tsNsec, wireLen, p);
    return slot;
  }

  /**
   * An ICMP error sent by a third host (a router: its addresses are not the quoted packet's pair):
   * credits the quoted flow's `icmpErrors` when that flow is live, without counting a packet on it
   * (the error itself is a packet of its own ICMP flow, counted by process()). Call after clock()
   * and before process() for the same record. Returns the credited slot or -1.
   */
  creditQuoted(p: DecodedPacket): number {
    if (p.ipVersion === 0 || p.status === DecodeStatus.NotIp || !p.hasPorts || !p.quotedValid || quotesOwnPair(p)) return -1;
    const q = this.findQuoted(p);
    if (q >= 0) this.icmpErrors[q]!++;
    return q;
  }

  private findQuoted(p: DecodedPacket): number {
    const vlan = ((p.vlanCount << 24) | (p.vlanOuter << 12) | p.vlanInner) >>> 0;
    const s0 = p.quotedSrc0, s1 = p.quotedSrc1, s2 = p.quotedSrc2, s3 = p.quotedSrc3, sp = p.quotedSrcPort;
    const d0 = p.quotedDst0, d1 = p.quotedDst1, d2 = p.quotedDst2, d3 = p.quotedDst3, dp = p.quotedDstPort;
    const proto = p.quotedProto;
    return compareEndpoints(s0, s1, s2, s3, sp, d0, d1, d2, d3, dp) <= 0
      ? this.find(canonicalKeyHash(s0, s1, s2, s3, sp, d0, d1, d2, d3, dp, proto, vlan), s0, s1, s2, s3, sp, d0, d1, d2, d3, dp, proto, vlan)
      : this.find(canonicalKeyHash(d0, d1, d2, d3, dp, s0, s1, s2, s3, sp, proto, vlan), d0, d1, d2, d3, dp, s0, s1, s2, s3, sp, proto, vlan);
  }

  /** find() for the packet's own key, read from `p` (fewer arguments on the hottest call). */
  private findPacket(h: number, p: DecodedPacket, srcIsA: boolean, sPort: number, dPort: number, proto: number, vlan: number): number {
    const index = this.index;
    const keys = this.rowI32;
    const mask = this.mask;
    const slotMask = this.slotMask;
    const tag = h & ~slotMask;
    // The key row holds endpoint A (the lower one) first.
    const ports = srcIsA ? (sPort << 16) | dPort : (dPort << 16) | sPort;
    const x3 = (srcIsA ? p.src3 : p.dst3) | 0;
    const y3 = (srcIsA ? p.dst3 : p.src3) | 0;
    let i = h & mask;
    for (;;) {
      const e = index[i]!;
      if (e === 0) return -1;
      if ((e & ~slotMask) === tag) {
        const k = ((e & slotMask) - 1) * ROW_I32;
        if (keys[k + K_PORTS] === ports && keys[k + K_A + 3] === x3 && keys[k + K_B + 3] === y3 && keys[k + K_PROTO] === proto && keys[k + K_VLAN] === (vlan | 0)) {
          const v6 = srcIsA
            ? keys[k] === (p.src0 | 0) && keys[k + 1] === (p.src1 | 0) && keys[k + 2] === (p.src2 | 0) &&
              keys[k + 4] === (p.dst0 | 0) && keys[k + 5] === (p.dst1 | 0) && keys[k + 6] === (p.dst2 | 0)
            : keys[k] === (p.dst0 | 0) && keys[k + 1] === (p.dst1 | 0) && keys[k + 2] === (p.dst2 | 0) &&
              keys[k + 4] === (p.src0 | 0) && keys[k + 5] === (p.src1 | 0) && keys[k + 6] === (p.src2 | 0);
          if (v6) return (e & slotMask) - 1;
        }
      }
      i = (i + 1) & mask;
    }
  }

  private find(
    h: number,
    a0: number, a1: number, a2: number, a3: number, ap: number,
    b0: number, b1: number, b2: number, b3: number, bp: number,
    proto: number, vlan: number,
  ): number {
    const index = this.index;
    const keys = this.rowI32;
    const mask = this.mask;
    const slotMask = this.slotMask;
    const tag = h & ~slotMask;
    const ports = (ap << 16) | bp;
    let i = h & mask;
    for (;;) {
      const e = index[i]!;
      if (e === 0) return -1;
      if ((e & ~slotMask) === tag) {
        // The row starts with the whole key: one cache line for the comparison.
        const k = ((e & slotMask) - 1) * ROW_I32;
        if (
          keys[k + K_PORTS] === ports && keys[k + 3] === (a3 | 0) && keys[k + 7] === (b3 | 0) && keys[k + K_PROTO] === proto &&
          keys[k + K_VLAN] === (vlan | 0) && keys[k] === (a0 | 0) && keys[k + 1] === (a1 | 0) && keys[k + 2] === (a2 | 0) &&
          keys[k + 4] === (b0 | 0) && keys[k + 5] === (b1 | 0) && keys[k + 6] === (b2 | 0)
        ) {
          return (e & slotMask) - 1;
        }
      }
      i = (i + 1) & mask;
    }
  }

  private setKey(
    s: number,
    a0: number, a1: number, a2: number, a3: number, ap: number,
    b0: number, b1: number, b2: number, b3: number, bp: number,
    proto: number, vlan: number,
  ): void {
    this.a0[s] = a0; this.a1[s] = a1; this.a2[s] = a2; this.a3[s] = a3; this.aPort[s] = ap;
    this.b0[s] = b0; this.b1[s] = b1; this.b2[s] = b2; this.b3[s] = b3; this.bPort[s] = bp;
    this.proto[s] = proto;
    this.vlan[s] = vlan;
    const k = s * ROW_I32;
    const keys = this.rowI32;
    keys[k] = a0; keys[k + 1] = a1; keys[k + 2] = a2; keys[k + 3] = a3;
    keys[k + 4] = b0; keys[k + 5] = b1; keys[k + 6] = b2; keys[k + 7] = b3;
    keys[k + K_PORTS] = (ap << 16) | bp;
    keys[k + K_PROTO] = proto;
    keys[k + K_VLAN] = vlan;
  }

  private insertIndex(slot: number, h: number): void {
    // Keep the load factor at most 1/2 (short probe chains); `live` already counts this slot.
    if (this.live * 2 > this.mask + 1 && this.mask + 1 < this.maxEntries) this.growIndex();
    const index = this.index;
    const mask = this.mask;
    let i = h & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = (h & ~this.slotMask) | (slot + 1);
  }

  private growIndex(): void {
    const old = this.index;
    const entries = (this.mask + 1) * 2;
    const index = new Int32Array(entries);
    const mask = entries - 1;
    const slotMask = this.slotMask;
    for (let k = 0; k < old.length; k++) {
      const e = old[k]!;
      if (e === 0) continue;
      let i = this.hash[(e & slotMask) - 1]! & mask;
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = e;
    }
    this.index = index;
    this.mask = mask;
  }

  /** Backward-shift deletion keeps probe chains intact without tombstones. */
  private removeIndex(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    const slotMask = this.slotMask;
    let i = this.hash[slot]! & mask;
    while ((index[i]! & slotMask) !== slot + 1) {
      if (index[i] === 0) throw new Error(`flow table invariant: slot ${slot} not indexed`);
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = index[j]!;
      if (e === 0) break;
      const home = this.hash[(e & slotMask) - 1]! & mask;
      // Move e back into the hole at i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        index[i] = e;
        i = j;
      }
    }
    index[i] = 0;
  }

  private allocate(): number {
    if (this.freeTop === 0) {
      // Full: evict the least recently seen flow so a flood of new flows cannot exhaust memory.
      const victim = this.lruHead;
      this.evicted++;
      this.flowAnomalies[Anomaly.flow_evicted]!++;
      this.endFlow(victim, FlowEndReason.Evicted);
    }
    const slot = this.free[--this.freeTop]!;
    if (slot >= this.slotHighWater) this.slotHighWater = slot + 1;
    this.live++;
    this.created++;
    // Append at the LRU tail.
    this.lru[slot * 2] = this.lruTail;
    this.lru[slot * 2 + 1] = -1;
    if (this.lruTail >= 0) this.lru[this.lruTail * 2 + 1] = slot;
    else this.lruHead = slot;
    this.lruTail = slot;
    return slot;
  }

  private touch(slot: number): void {
    if (slot === this.lruTail) return;
    const lru = this.lru;
    const p = lru[slot * 2]!;
    const n = lru[slot * 2 + 1]!;
    if (p >= 0) lru[p * 2 + 1] = n;
    else this.lruHead = n;
    lru[n * 2] = p; // n >= 0 because slot is not the tail
    lru[slot * 2] = this.lruTail;
    lru[slot * 2 + 1] = -1;
    lru[this.lruTail * 2 + 1] = slot;
    this.lruTail = slot;
  }

  private unlink(slot: number): void {
    const p = this.lru[slot * 2]!;
    const n = this.lru[slot * 2 + 1]!;
    if (p >= 0) this.lru[p * 2 + 1] = n;
    else this.lruHead = n;
    if (n >= 0) this.lru[n * 2] = p;
    else this.lruTail = p;
  }

  private initFlow(s: number, ordinal: number, tsSec: number, tsNsec: number): void {
    this.serial[s] = ordinal;
    const f = s * ROW_F64;
    const rf = this.rowF64;
    rf[f + F_PKTS_TO_SERVER] = 0; rf[f + F_PKTS_TO_CLIENT] = 0;
    rf[f + F_BYTES_TO_SERVER] = 0; rf[f + F_BYTES_TO_CLIENT] = 0;
    rf[f + F_PAYLOAD_TO_SERVER] = 0; rf[f + F_PAYLOAD_TO_CLIENT] = 0;
    rf[f + F_LAST_SEC] = tsSec;
    const i = s * ROW_I32;
    this.rowI32[i + I_LAST_NSEC] = tsNsec;
    this.rowI32[i + I_FLAGS] = 0;
    const b = s * ROW_BYTES;
    this.rowU8[b + B_INSPECT] = 0;
    this.rowU16[s * (ROW_BYTES / 2) + H_HISTORY_SEEN] = 0;
    this.rowU8[b + B_HISTORY_LEN] = 0;
    this.firstSec[s] = tsSec; this.firstNsec[s] = tsNsec;
    this.synSec[s] = 0; this.synNsec[s] = 0;
    this.rttNs[s] = -1;
    const ab = s * FLOW_ANOMALY_PAIRS;
    for (let i = 0; i < FLOW_ANOMALY_PAIRS; i++) {
      this.anomalyCode[ab + i] = 0;
      this.anomalyCount[ab + i] = 0;
    }
    this.icmpErrors[s] = 0;
  }

  /** Returns true when the packet's source is the client. Records the basis. */
  private decideRoles(slot: number, p: DecodedPacket, proto: number, sPort: number, dPort: number): boolean {
    if (proto === IpProto.TCP) {
      const f = p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK);
      if (f === TcpFlag.SYN) {
        this.basis[slot] = DirectionBasis.Syn;
        return true;
      }
      if (f === (TcpFlag.SYN | TcpFlag.ACK)) {
        this.basis[slot] = DirectionBasis.SynAck;
        return false;
      }
    } else if (isIcmpProto(proto)) {
      // A query pair (echo, timestamp, ...) shares one flow keyed by its identifier (decode/icmp.ts).
      const q = icmpQueryKind(proto === IpProto.ICMPV6, p.icmpType);
      this.basis[slot] = q === IcmpQuery.None ? DirectionBasis.FirstPacket : DirectionBasis.IcmpEcho;
      return q !== IcmpQuery.Reply;
    }
    const ranks = proto === IpProto.TCP ? this.rankTcp : proto === IpProto.UDP ? this.rankUdp : proto === IpProto.SCTP ? this.rankSctp : this.rankOther;
    const rs = ranks[sPort]!;
    const rd = ranks[dPort]!;
    if (rs === rd) {
      this.basis[slot] = DirectionBasis.FirstPacket;
      return true;
    }
    this.basis[slot] = rs === PortRank.PortMap || rd === PortRank.PortMap ? DirectionBasis.PortMap : DirectionBasis.WellKnownPort;
    return rd > rs;
  }

  private account(s: number, ordinal: number, toServer: boolean, tsSec: number, tsNsec: number, wireLen: number, p: DecodedPacket): void {
    const rf = this.rowF64;
    const ri = this.rowI32;
    const f = s * ROW_F64;
    const i = s * ROW_I32;
    rf[f + F_LAST_ORDINAL] = ordinal;
    let fl = ri[i + I_FLAGS]!;
    if (toServer) {
      rf[f + F_PKTS_TO_SERVER]!++;
      rf[f + F_BYTES_TO_SERVER]! += wireLen;
      rf[f + F_PAYLOAD_TO_SERVER]! += p.payloadLength;
      fl |= FlowFlag.ClientSent;
    } else {
      rf[f + F_PKTS_TO_CLIENT]!++;
      rf[f + F_BYTES_TO_CLIENT]! += wireLen;
      rf[f + F_PAYLOAD_TO_CLIENT]! += p.payloadLength;
      fl |= FlowFlag.ServerSent;
    }
    if ((fl & FlowFlag.AwaitFirst) !== 0) {
      // First packet after an active-timeout cut.
      fl &= ~FlowFlag.AwaitFirst;
      this.firstSec[s] = tsSec;
      this.firstNsec[s] = tsNsec;
    }
    ri[i + I_FLAGS] = fl;
    // Keep the latest time; out-of-order timestamps never move `last` backwards.
    const lastSec = rf[f + F_LAST_SEC]!;
    if (tsSec > lastSec || (tsSec === lastSec && tsNsec > ri[i + I_LAST_NSEC]! >>> 0)) {
      rf[f + F_LAST_SEC] = tsSec;
      ri[i + I_LAST_NSEC] = tsNsec;
    }
    if (p.anomaly !== 0) this.addFlowAnomaly(s, p.anomaly);
  }

  private addFlowAnomaly(s: number, code: number): void {
    const base = s * FLOW_ANOMALY_PAIRS;
    for (let i = 0; i < FLOW_ANOMALY_PAIRS; i++) {
      const c = this.anomalyCode[base + i]!;
      if (c === code || c === 0 || i === FLOW_ANOMALY_PAIRS - 1) {
        // The last pair absorbs overflow under its own code (rare: four distinct codes on one flow).
        if (c === 0) this.anomalyCode[base + i] = code;
        this.anomalyCount[base + i]!++;
        return;
      }
    }
  }

  private historyAdd(s: number, letter: number): void {
    const bit = 1 << letter;
    const h = s * (ROW_BYTES / 2) + H_HISTORY_SEEN;
    const seen = this.rowU16[h]!;
    if ((seen & bit) !== 0) return;
    this.rowU16[h] = seen | bit;
    const b = s * ROW_BYTES + B_HISTORY_LEN;
    const len = this.rowU8[b]!;
    if (len < HISTORY_MAX) {
      this.history[s * HISTORY_MAX + len] = letter;
      this.rowU8[b] = len + 1;
    }
  }

  private tcpUpdate(s: number, toServer: boolean, f: number, tsSec: number, tsNsec: number, payloadLen: number): void {
    const d = toServer ? 0 : 6;
    let fl = this.rowI32[s * ROW_I32 + I_FLAGS]!;
    if ((f & TcpFlag.SYN) !== 0) {
      fl |= FlowFlag.SynSeen;
      if ((f & TcpFlag.ACK) === 0) {
        this.historyAdd(s, d + H_SYN);
        if (toServer && (fl & FlowFlag.ClientSyn) === 0) {
          fl |= FlowFlag.ClientSyn;
          this.synSec[s] = tsSec;
          this.synNsec[s] = tsNsec;
        }
      } else {
        this.historyAdd(s, d + H_SYNACK);
        if (!toServer) fl |= FlowFlag.ServerSynAck;
      }
    } else if ((f & TcpFlag.ACK) !== 0) {
      if (toServer && (fl & (FlowFlag.ServerSynAck | FlowFlag.HandshakeDone)) === FlowFlag.ServerSynAck) {
        fl |= FlowFlag.HandshakeDone;
        if ((fl & FlowFlag.ClientSyn) !== 0) {
          this.rttNs[s] = (tsSec - this.synSec[s]!) * 1e9 + (tsNsec - this.synNsec[s]!);
        }
      }
      if (payloadLen === 0 && (f & (TcpFlag.FIN | TcpFlag.RST)) === 0) this.historyAdd(s, d + H_ACK);
    }
    if (payloadLen > 0) this.historyAdd(s, d + H_DATA);
    if ((f & TcpFlag.FIN) !== 0) {
      this.historyAdd(s, d + H_FIN);
      fl |= toServer ? FlowFlag.ClientFin : FlowFlag.ServerFin;
    }
    if ((f & TcpFlag.RST) !== 0) {
      this.historyAdd(s, d + H_RST);
      fl |= toServer ? FlowFlag.ClientRst : FlowFlag.ServerRst;
    }
    this.rowI32[s * ROW_I32 + I_FLAGS] = fl;
  }

  private isClosed(s: number): boolean {
    const fl = this.rowI32[s * ROW_I32 + I_FLAGS]!;
    return (fl & (FlowFlag.ClientRst | FlowFlag.ServerRst)) !== 0 ||
      (fl & (FlowFlag.ClientFin | FlowFlag.ServerFin)) === (FlowFlag.ClientFin | FlowFlag.ServerFin);
  }

  /** End a flow now: the observer sees its final state, then the slot is recycled. */
  endFlow(slot: number, reason: number): void {
    this.observer?.flowEnded(slot, reason);
    this.removeIndex(slot);
    this.unlink(slot);
    this.serial[slot] = -1;
    this.free[this.freeTop++] = slot;
    this.live--;
  }

  /**
   * The flow clock, advanced by every record (process() calls it): sets the current ordinal, tracks
   * how far timestamps ever step back, and sweeps when a new second of capture time has begun.
   */
  clock(tsSec: number, ordinal: number): void {
    this.currentOrdinal = ordinal;
    if (tsSec > this.maxSec) this.maxSec = tsSec;
    else if (this.maxSec - tsSec > this.backstep) this.backstep = this.maxSec - tsSec;
    if (tsSec >= this.nextSweepSec) this.sweep(tsSec);
  }

  /**
   * Advance the flow clock without a packet to account (non-IP frames, records another worker
   * processes, live-capture ticks). Without `ordinal` the time counts as part of the current record.
   */
  sweepIfDue(nowSec: number, ordinal: number = this.currentOrdinal): void {
    this.clock(nowSec, ordinal);
  }

  /**
   * Expire every flow idle for longer than the idle timeout and cut flows older than the active
   * timeout. Runs at most once per second of capture time.
   *
   * The LRU list is in last-packet order; with timestamps that never step back it is also in
   * last-time order and the scan stops at the first flow that is not idle. When records stepped back
   * by up to `backstep` seconds, a later flow's last time is at most that much older than an
   * earlier one's, so the scan goes on until that bound rules out any further idle flow: the set of
   * flows ended is exactly "idle longer than the timeout", whatever other flows the table holds.
   */
  sweep(nowSec: number): void {
    this.nextSweepSec = nowSec + 1;
    const idle = this.idleTimeout;
    const slack = this.backstep;
    for (let s = this.lruHead; s >= 0; ) {
      const n = this.lru[s * 2 + 1]!;
      const age = nowSec - this.rowF64[s * ROW_F64 + F_LAST_SEC]!;
      if (age > idle) this.endFlow(s, FlowEndReason.IdleTimeout);
      else if (age + slack <= idle) break;
      s = n;
    }
    if (this.activeTimeout > 0) {
      for (let s = this.lruHead; s >= 0; ) {
        const n = this.lru[s * 2 + 1]!;
        if ((this.rowI32[s * ROW_I32 + I_FLAGS]! & FlowFlag.AwaitFirst) === 0 && nowSec - this.firstSec[s]! >= this.activeTimeout) this.cutActive(s);
        s = n;
      }
    }
  }

  /** Emit the record so far and continue counting on the same slot with fresh counters. */
  private cutActive(s: number): void {
    this.observer?.flowEnded(s, FlowEndReason.ActiveTimeout);
    const ri = this.rowI32;
    const keepFlags = ri[s * ROW_I32 + I_FLAGS]! & ~(FlowFlag.ClientSent | FlowFlag.ServerSent);
    const inspect = this.rowU8[s * ROW_BYTES + B_INSPECT]!;
    const lastSec = this.rowF64[s * ROW_F64 + F_LAST_SEC]!;
    const lastNsec = ri[s * ROW_I32 + I_LAST_NSEC]!;
    // basis, clientIsA and the key are not touched by initFlow.
    this.initFlow(s, this.serial[s]!, -1, 0);
    this.rowF64[s * ROW_F64 + F_LAST_SEC] = lastSec; // idle expiry still measures from the last packet
    ri[s * ROW_I32 + I_LAST_NSEC] = lastNsec;
    ri[s * ROW_I32 + I_FLAGS] = keepFlags | FlowFlag.Continued | FlowFlag.AwaitFirst;
    this.rowU8[s * ROW_BYTES + B_INSPECT] = inspect;
  }

  /** End every live flow (end of capture), oldest first. */
  flush(): void {
    while (this.lruHead >= 0) this.endFlow(this.lruHead, FlowEndReason.EndOfCapture);
  }

  /** Whether `s` (below slotHighWater) holds a live flow. */
  isLive(s: number): boolean {
    return this.serial[s]! >= 0;
  }

  /** Slots of live flows in LRU order (for snapshots; allocates, not for the hot path). */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let s = this.lruHead; s >= 0; s = this.lru[s * 2 + 1]!) out.push(s);
    return out;
  }

  historyString(s: number): string {
    let out = '';
    const base = s * HISTORY_MAX;
    const len = this.rowU8[s * ROW_BYTES + B_HISTORY_LEN]!;
    for (let i = 0; i < len; i++) out += HISTORY_LETTERS[this.history[base + i]!];
    return out;
  }

  /** Zeek-style connection state (see docs/output-schema.md). */
  stateName(s: number): string {
    const fl = this.flags(s);
    if (this.proto[s] !== IpProto.TCP) {
      return (fl & FlowFlag.ServerSent) !== 0 && (fl & FlowFlag.ClientSent) !== 0 ? 'two-way' : 'one-way';
    }
    const cSyn = (fl & FlowFlag.ClientSyn) !== 0;
    const sSynAck = (fl & FlowFlag.ServerSynAck) !== 0;
    const est = (fl & FlowFlag.HandshakeDone) !== 0 || (cSyn && sSynAck);
    const cFin = (fl & FlowFlag.ClientFin) !== 0;
    const sFin = (fl & FlowFlag.ServerFin) !== 0;
    const cRst = (fl & FlowFlag.ClientRst) !== 0;
    const sRst = (fl & FlowFlag.ServerRst) !== 0;
    if (!cSyn && !sSynAck) return 'OTH';
    if (cSyn && !sSynAck) {
      if (sRst) return 'REJ';
      if (cFin) return 'SH';
      return (fl & FlowFlag.ServerSent) !== 0 ? 'OTH' : 'S0';
    }
    if (est) {
      if (cRst) return 'RSTO';
      if (sRst) return 'RSTR';
      if (cFin && sFin) return 'SF';
      if (cFin) return 'S2';
      if (sFin) return 'S3';
      return 'S1';
    }
    return 'OTH';
  }

  /** (code, count) pairs of per-flow anomalies. */
  flowAnomalyPairs(s: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const base = s * FLOW_ANOMALY_PAIRS;
    for (let i = 0; i < FLOW_ANOMALY_PAIRS; i++) {
      const c = this.anomalyCode[base + i]!;
      if (c !== 0) out.push([c, this.anomalyCount[base + i]!]);
    }
    return out;
  }
}
