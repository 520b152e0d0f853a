/**
 * The flow table: bidirectional flows in typed arrays, one slot per live flow, and the per-packet
 * path that ties its parts together:
 * - flow-index.ts finds a packet's slot (open addressing over the key at the start of each row);
 * - row-layout.ts is the 128-byte row every packet of a known flow reads and writes (key,
 *   counters, last time, flags, history bits), and the only copy of the key; what is written once
 *   or read at the end (serial, first time) stays in columns here, TCP's SYN time / RTT and
 *   history letters in tcp-state.ts, and what few flows have (anomalies, ICMP errors) in
 *   flow-extras.ts;
 * - roles.ts decides client and server when a flow starts, tcp-state.ts keeps its TCP handshake,
 *   history and Zeek state, fragments.ts attributes later IP fragments, icmp-errors.ts the ICMP
 *   errors that quote a flow;
 * - lru.ts keeps the slots in last-packet order, lifetimes.ts ends flows (idle, active timeout) and
 *   defines the order of end records.
 * No Map, no string keys, no objects per packet.
 *
 * A flow holds transport facts only (Zeek's conn.log): endpoints, who is client, counts per
 * direction, times, TCP state and history, anomalies. The service verdict lives in classify/, fed
 * through the FlowObserver hooks.
 *
 * Slots are recycled; `serial` (the position of the flow's first packet in the capture) identifies
 * a flow for good and orders output deterministically whatever the slot numbers are.
 *
 * Tunnels: one frame can hold several flow packets, one per level (decode/decoder.ts: the outer UDP
 * or GRE packet, then the packet inside). A packet's position is its record's ordinal plus level / 10
 * (12, 12.1, 12.2 for a frame carrying two tunnels), so flows started by the same record still get
 * distinct serials, and the last-packet order (LRU list, end keys) follows processing order. The
 * key holds the packet's tunnel context word (decode/tunnel.ts), and a tunnelled flow's encapsulation
 * stack is kept in `tunnels` (tunnel-store.ts).
 */
import { Anomaly, ANOMALY_COUNT } from '../util/anomaly.js';
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import { DecodeStatus, FragmentKind, TcpFlag, type DecodedPacket } from '../decode/types.js';
import type { FlowTableMemory } from './fast-state.js';
import { FlowExtras } from './flow-extras.js';
import { FlowIndex } from './flow-index.js';
import { FragmentTable } from './fragments.js';
import { QuotedPacket, quotesOwnPair } from './icmp-errors.js';
import { canonicalKeyHash, compareEndpoints, keyMix, vlanKey } from './key.js';
import { FlowClock, FlowEndReason, type ExpiryHost } from './lifetimes.js';
import { LruSlots } from './lru.js';
import { RoleDecider, type DocumentedPorts } from './roles.js';
import { FlowRows, ROW } from './row-layout.js';
import { FlowFlag, TcpState } from './tcp-state.js';
import { TunnelStore } from './tunnel-store.js';

// What the engine imports from here (pipeline/engine.ts).
export { END_OF_CAPTURE_TRIGGER, FlowEndReason } from './lifetimes.js';
export { FLOW_ANOMALY_PAIRS } from './flow-extras.js';

// Module-local copies (row-layout.ts says why).
const {
  F64: ROW_F64, I32: ROW_I32, BYTES: ROW_BYTES, K_A, K_B, K_PORTS, K_PROTO, K_VLAN, K_TUNNEL,
  F_LAST_ORDINAL, F_PKTS_TO_SERVER, F_PKTS_TO_CLIENT, F_BYTES_TO_SERVER, F_BYTES_TO_CLIENT,
  F_PAYLOAD_TO_SERVER, F_PAYLOAD_TO_CLIENT, F_LAST_SEC, I_LAST_NSEC, I_FLAGS, B_CLIENT_IS_A, B_INSPECT,
  B_IP_VERSION, B_BASIS,
} = ROW;
const { ClientSent, ServerSent, Continued, AwaitFirst, RttKnown } = FlowFlag;

/** B_INSPECT's bits: payloads towards the server, towards the client (src/wasm/fast-path.ts reads them too). */
const INSPECT_TO_SERVER = 1;
const INSPECT_TO_CLIENT = 2;
const INSPECT_BOTH = INSPECT_TO_SERVER | INSPECT_TO_CLIENT;
function inspectBit(toServer: boolean): number {
  return toServer ? INSPECT_TO_SERVER : INSPECT_TO_CLIENT;
}

export interface FlowObserver {
  /** A flow was created (roles decided). */
  flowStarted(slot: number): void;
  /**
   * Payload of a packet in a direction with `inspecting(slot, toServer)` on. `buf` is valid only
   * during the call. The observer turns a direction off (`stopInspecting`) or both (`setInspect(slot,
   * false)`) once it has seen enough.
   */
  payload(slot: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void;
  /** The flow ends; its columns are still readable during the call, the slot is recycled after. */
  flowEnded(slot: number, reason: number): void;
  /** Reads what flowEnded(slot) will read first (a flow about to be evicted); returns any number. */
  prefetch?(slot: number): number;
}

export interface FlowTableOptions {
  /** Bound on live flows; the least recently seen flow is evicted when full. */
  maxFlows: number;
  /** Seconds of capture time without packets after which a flow ends. */
  idleTimeout: number;
  /** Seconds after a flow's first packet at which its record is cut and continued (0 = never). */
  activeTimeout: number;
  /** Per-transport 65536-entry maps of documented server ports (value 1 = documented). */
  documentedPorts?: DocumentedPorts;
  /** Index entries in use at first (flow-index.ts; tests make it small to exercise growth). */
  initialIndexEntries?: number;
  /** Where the rows, index entries, LRU links and TCP columns live (the fast path's memory; fast-state.ts). */
  memory?: FlowTableMemory;
}

/** The table's capacity for a --max-flows value (what FlowTableMemory is sized for). */
export function tableCapacity(maxFlows: number): number {
  return Math.max(16, Math.floor(maxFlows));
}

export class FlowTable {
  readonly capacity: number;
  private readonly rows: FlowRows;
  private readonly rowF64: Float64Array;
  private readonly rowI32: Int32Array;
  private readonly rowU8: Uint8Array;
  private readonly index: FlowIndex;
  private readonly lru: LruSlots;
  private readonly time: FlowClock;
  private readonly tcp: TcpState;
  private readonly roles: RoleDecider;
  private readonly extras: FlowExtras;
  private readonly frags = new FragmentTable();
  private readonly quoted = new QuotedPacket();
  /** What the clock's sweeps do to flows; built once. */
  private readonly expiry: ExpiryHost;

  /** Encapsulation stacks of tunnelled flows. */
  readonly tunnels: TunnelStore;

  // Facts written once per flow (the key and the rest are in the row: accessors below).
  readonly serial: Float64Array;
  readonly firstSec: Float64Array; readonly firstNsec: Uint32Array;

  /** Ordinal of the record being processed (the trigger of the flows it ends); -1 before the first. */
  currentOrdinal = -1;
  private observer: FlowObserver | null = null;
  /** prefetch()'s result, kept so that its loads are not optimised away. */
  private prefetched = 0;

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
  readonly flowAnomalies = new Float64Array(ANOMALY_COUNT);

  constructor(opts: FlowTableOptions) {
    const cap = tableCapacity(opts.maxFlows);
    this.capacity = cap;
    this.rows = new FlowRows(cap, opts.memory?.rows);
    this.rowF64 = this.rows.f64;
    this.rowI32 = this.rows.i32;
    this.rowU8 = this.rows.u8;
    this.tunnels = new TunnelStore();
    this.serial = new Float64Array(cap);
    this.firstSec = new Float64Array(cap); this.firstNsec = new Uint32Array(cap);
    this.extras = new FlowExtras(cap);
    this.index = new FlowIndex(cap, this.rowI32, this.serial, opts.initialIndexEntries, opts.memory?.index);
    this.lru = new LruSlots(cap, opts.memory?.links);
    this.time = new FlowClock(opts.idleTimeout, opts.activeTimeout);
    this.tcp = new TcpState(this.rows, cap, opts.memory);
    this.roles = new RoleDecider(this.rowU8, opts.documentedPorts);
    this.expiry = {
      lastSec: (s) => this.lastSec(s),
      firstSec: (s) => this.firstSec[s]!,
      awaitingFirst: (s) => (this.flags(s) & AwaitFirst) !== 0,
      end: (s, reason) => this.endFlow(s, reason),
      cut: (s) => this.cutActive(s),
    };
  }

  setObserver(observer: FlowObserver | null): void {
    this.observer = observer;
  }

  /**
   * Memory per slot (bytes) of everything sized by the capacity: the row, the columns here and in
   * tcp-state.ts, the LRU links, the extras and tunnel references, and the flow index at its
   * largest (2 entries per slot). What the table allocates up front; untouched slots are not
   * resident.
   */
  static bytesPerSlot(): number {
    return ROW_BYTES + 8 + 8 + 4 + TcpState.BYTES_PER_SLOT + LruSlots.BYTES_PER_SLOT + FlowExtras.BYTES_PER_SLOT + TunnelStore.BYTES_PER_SLOT + FlowIndex.BYTES_PER_SLOT;
  }

  // The key, from the row (canonical: endpoint A <= endpoint B; address words as int32).
  /** Address word `i` (0..3) of endpoint A. */
  addressA(s: number, i: number): number { return this.rowI32[s * ROW_I32 + K_A + i]!; }
  /** Address word `i` (0..3) of endpoint B. */
  addressB(s: number, i: number): number { return this.rowI32[s * ROW_I32 + K_B + i]!; }
  aPort(s: number): number { return this.rowI32[s * ROW_I32 + K_PORTS]! >>> 16; }
  bPort(s: number): number { return this.rowI32[s * ROW_I32 + K_PORTS]! & 0xffff; }
  /** IP protocol number. */
  proto(s: number): number { return this.rowI32[s * ROW_I32 + K_PROTO]!; }
  /** 4 or 6. */
  ipVersion(s: number): number { return this.rowU8[s * ROW_BYTES + B_IP_VERSION]!; }
  /** The key's VLAN word (flow/key.ts vlanKey). */
  vlan(s: number): number { return this.rowI32[s * ROW_I32 + K_VLAN]!; }
  /** The key's tunnel context word (decode/tunnel.ts; 0 outside tunnels). */
  tunnelContext(s: number): number { return this.rowI32[s * ROW_I32 + K_TUNNEL]!; }
  /** Address word `i` of the client / of the server. */
  clientAddress(s: number, i: number): number { return this.clientIsA(s) ? this.addressA(s, i) : this.addressB(s, i); }
  serverAddress(s: number, i: number): number { return this.clientIsA(s) ? this.addressB(s, i) : this.addressA(s, i); }
  clientPort(s: number): number { return this.clientIsA(s) ? this.aPort(s) : this.bPort(s); }
  serverPort(s: number): number { return this.clientIsA(s) ? this.bPort(s) : this.aPort(s); }
  /** DirectionBasis (roles.ts). */
  basis(s: number): number { return this.rowU8[s * ROW_BYTES + B_BASIS]!; }
  /** Handshake RTT (client SYN to client's ACK of the SYN-ACK) in nanoseconds; -1 unknown. */
  rttNs(s: number): number { return this.tcp.rttNs(s); }
  /** ICMP errors credited to the flow (icmp-errors.ts). */
  icmpErrors(s: number): number { return this.extras.icmpErrors(s); }

  // Row fields, for readers outside the hot path (records, statistics, the classifier).
  packetsToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_PKTS_TO_SERVER]!; }
  packetsToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_PKTS_TO_CLIENT]!; }
  bytesToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_BYTES_TO_SERVER]!; }
  bytesToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_BYTES_TO_CLIENT]!; }
  payloadToServer(s: number): number { return this.rowF64[s * ROW_F64 + F_PAYLOAD_TO_SERVER]!; }
  payloadToClient(s: number): number { return this.rowF64[s * ROW_F64 + F_PAYLOAD_TO_CLIENT]!; }
  /** Position of the flow's last packet: its record's ordinal, + level / 10 inside a tunnel (the LRU order is this order). */
  lastOrdinal(s: number): number { return this.rowF64[s * ROW_F64 + F_LAST_ORDINAL]!; }
  lastSec(s: number): number { return this.rowF64[s * ROW_F64 + F_LAST_SEC]!; }
  lastNsec(s: number): number { return this.rowI32[s * ROW_I32 + I_LAST_NSEC]! >>> 0; }
  /** FlowFlag bits (tcp-state.ts). */
  flags(s: number): number { return this.rowI32[s * ROW_I32 + I_FLAGS]!; }
  /** True when endpoint A of the key is the client. */
  clientIsA(s: number): boolean { return this.rowU8[s * ROW_BYTES + B_CLIENT_IS_A] === 1; }
  /**
   * Whether the observer gets this flow's payloads, in either direction or (`toServer` given) in
   * that one: the classifier turns a direction off once it has seen enough of it, so that the
   * other direction's packets alone still come to it (and the fast path takes the rest).
   */
  inspecting(s: number, toServer?: boolean): boolean {
    const bits = this.rowU8[s * ROW_BYTES + B_INSPECT]!;
    return toServer === undefined ? bits !== 0 : (bits & inspectBit(toServer)) !== 0;
  }
  /** Both directions on or off. */
  setInspect(s: number, on: boolean): void { this.rowU8[s * ROW_BYTES + B_INSPECT] = on ? INSPECT_BOTH : 0; }
  /** One direction off (the other as it was). */
  stopInspecting(s: number, toServer: boolean): void {
    const at = s * ROW_BYTES + B_INSPECT;
    this.rowU8[at] = this.rowU8[at]! & ~inspectBit(toServer);
  }

  /**
   * Account one decoded packet. `ordinal` is its record's position in the capture (0-based); with the
   * packet's tunnel level it makes the serial of a flow it creates. Returns the flow slot, or -1 when
   * not attributed.
   */
  process(p: DecodedPacket, ordinal: number, tsSec: number, tsNsec: number, wireLen: number, buf: Uint8Array): number {
    this.clock(tsSec, ordinal);
    if (p.ipVersion === 0 || p.status === DecodeStatus.NotIp) return -1;

    // Position of the packet: the record's ordinal, plus level / 10 inside a tunnel (see the header).
    const pos = p.level === 0 ? ordinal : ordinal + p.level / 10;
    if (p.fragment === FragmentKind.Later) return this.laterFragment(p, pos, tsSec, tsNsec, wireLen);

    let proto = p.ipProto;
    if (!p.hasPorts) {
      // Transport header missing (truncated/malformed): no 5-tuple. tshark leaves such frames out of
      // its conversation tables too. Protocols without ports (GRE, ESP, ...) still form flows.
      if (proto === IpProto.TCP || proto === IpProto.UDP || proto === IpProto.SCTP || isIcmpProto(proto)) {
        // A packet inside a tunnel is not a frame of its own: its frame is in the outer flow.
        if (p.level === 0) this.unattributed++;
        return -1;
      }
    } else if (p.quotedValid && quotesOwnPair(p)) {
      // An ICMP error from one of the two hosts of the flow it quotes: credit it there, not as a
      // packet (icmp-errors.ts).
      const q = this.findQuoted(p);
      if (q >= 0) {
        this.extras.addIcmpError(q);
        return q;
      }
    }

    const sPort = p.hasPorts ? p.srcPort : 0;
    const dPort = p.hasPorts ? p.dstPort : 0;
    const vlan = vlanKey(p);
    const tunnel = p.tunnelContext;
    const hv = keyMix(vlan, tunnel);
    const srcIsA = compareEndpoints(p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort) <= 0;
    const h = srcIsA
      ? canonicalKeyHash(p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort, proto, hv)
      : canonicalKeyHash(p.dst0, p.dst1, p.dst2, p.dst3, dPort, p.src0, p.src1, p.src2, p.src3, sPort, proto, hv);
    let slot = this.index.find(h, p, srcIsA, sPort, dPort, proto, vlan, tunnel);

    const flagsTcp = proto === IpProto.TCP ? p.tcpFlags : 0;
    if (slot >= 0 && (flagsTcp & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN && this.tcp.isClosed(slot)) {
      // A fresh SYN on a finished connection: the 5-tuple is being reused by a new connection.
      this.endFlow(slot, FlowEndReason.PortReuse);
      this.flowAnomalies[Anomaly.tcp_port_reuse]!++;
      slot = -1;
    }
    if (slot < 0) {
      slot = this.allocate();
      if (srcIsA) this.setKey(slot, p.src0, p.src1, p.src2, p.src3, sPort, p.dst0, p.dst1, p.dst2, p.dst3, dPort, proto, vlan, tunnel);
      else this.setKey(slot, p.dst0, p.dst1, p.dst2, p.dst3, dPort, p.src0, p.src1, p.src2, p.src3, sPort, proto, vlan, tunnel);
      this.rowU8[slot * ROW_BYTES + B_IP_VERSION] = p.ipVersion;
      this.index.insert(slot, h, this.live);
      this.initFlow(slot, pos, tsSec, tsNsec);
      const srcIsClient = this.roles.decide(slot, p, proto, sPort, dPort);
      this.rowU8[slot * ROW_BYTES + B_CLIENT_IS_A] = srcIsClient === srcIsA ? 1 : 0;
      if (p.tunnelDepth !== 0) this.tunnels.set(slot, p, srcIsClient);
      this.observer?.flowStarted(slot);
    } else {
      this.lru.touch(slot);
    }

    const toServer = srcIsA === (this.rowU8[slot * ROW_BYTES + B_CLIENT_IS_A] === 1);
    this.account(slot, pos, toServer, tsSec, tsNsec, wireLen, p);
    if (p.fragment === FragmentKind.First) {
      this.frags.remember(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, proto, p.fragId, vlan, tunnel, slot, this.serial[slot]!, toServer);
    }
    if (flagsTcp !== 0 || proto === IpProto.TCP) this.tcp.update(slot, toServer, flagsTcp, tsSec, tsNsec, p.payloadLength);
    else this.tcp.data(slot, toServer);
    if (p.payloadCaptured > 0 && (this.rowU8[slot * ROW_BYTES + B_INSPECT]! & inspectBit(toServer)) !== 0 && this.observer !== null) {
      this.observer.payload(slot, toServer, buf, p.payloadOffset, p.payloadCaptured);
    }
    return slot;
  }

  private laterFragment(p: DecodedPacket, pos: number, tsSec: number, tsNsec: number, wireLen: number): number {
    const e = this.frags.find(p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3, p.ipProto, p.fragId, vlanKey(p), p.tunnelContext);
    const slot = e >= 0 ? this.frags.slotOf(e) : -1;
    if (slot < 0 || this.serial[slot] !== this.frags.serialOf(e)) {
      this.flowAnomalies[Anomaly.ip_fragment_without_first]!++;
      if (p.level === 0) this.unattributed++;
      return -1;
    }
    this.lru.touch(slot);
    this.account(slot, pos, this.frags.isToServer(e), tsSec, tsNsec, wireLen, p);
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
    if (q >= 0) this.extras.addIcmpError(q);
    return q;
  }

  /** The live flow an ICMP error quotes, or -1: the packet lookup, on the quoted packet. */
  private findQuoted(p: DecodedPacket): number {
    const q = this.quoted.of(p);
    const sp = q.srcPort;
    const dp = q.dstPort;
    const proto = q.ipProto;
    const vlan = vlanKey(q);
    const tunnel = q.tunnelContext;
    const hv = keyMix(vlan, tunnel);
    const srcIsA = compareEndpoints(q.src0, q.src1, q.src2, q.src3, sp, q.dst0, q.dst1, q.dst2, q.dst3, dp) <= 0;
    const h = srcIsA
      ? canonicalKeyHash(q.src0, q.src1, q.src2, q.src3, sp, q.dst0, q.dst1, q.dst2, q.dst3, dp, proto, hv)
      : canonicalKeyHash(q.dst0, q.dst1, q.dst2, q.dst3, dp, q.src0, q.src1, q.src2, q.src3, sp, proto, hv);
    return this.index.find(h, q, srcIsA, sp, dp, proto, vlan, tunnel);
  }

  private setKey(
    s: number,
    a0: number, a1: number, a2: number, a3: number, ap: number,
    b0: number, b1: number, b2: number, b3: number, bp: number,
    proto: number, vlan: number, tunnel: number,
  ): void {
    const k = s * ROW_I32;
    const keys = this.rowI32;
    keys[k] = a0; keys[k + 1] = a1; keys[k + 2] = a2; keys[k + 3] = a3;
    keys[k + 4] = b0; keys[k + 5] = b1; keys[k + 6] = b2; keys[k + 7] = b3;
    keys[k + K_PORTS] = (ap << 16) | bp;
    keys[k + K_PROTO] = proto;
    keys[k + K_VLAN] = vlan;
    keys[k + K_TUNNEL] = tunnel;
  }

  /** A free slot, at the LRU tail; when full, the least recently seen flow is evicted first. */
  private allocate(): number {
    if (this.lru.full) {
      // Evict so that a flood of new flows cannot exhaust memory.
      this.evicted++;
      this.flowAnomalies[Anomaly.flow_evicted]!++;
      const victim = this.lru.head;
      // The next eviction's flow: its cache misses (it was seen longest ago) start now, beside this one's.
      const next = this.lru.next(victim);
      if (next >= 0) this.prefetched = this.prefetch(next);
      this.endFlow(victim, FlowEndReason.Evicted);
    }
    this.live++;
    this.created++;
    const slot = this.lru.take();
    if (slot >= this.slotHighWater) this.slotHighWater = slot + 1;
    return slot;
  }

  /**
   * Reads what ending flow `s` reads first (its row's two cache lines, its index entry, the
   * observer's record of it) and returns a sum of it that the caller stores, so that the loads stay.
   */
  private prefetch(s: number): number {
    const r = s * ROW_I32;
    return (this.rowI32[r]! + this.rowI32[r + ROW_I32 / 2]! + this.index.home(s) + (this.observer?.prefetch?.(s) ?? 0)) | 0;
  }

  private initFlow(s: number, pos: number, tsSec: number, tsNsec: number): void {
    this.serial[s] = pos;
    const f = s * ROW_F64;
    const rf = this.rowF64;
    rf[f + F_PKTS_TO_SERVER] = 0; rf[f + F_PKTS_TO_CLIENT] = 0;
    rf[f + F_BYTES_TO_SERVER] = 0; rf[f + F_BYTES_TO_CLIENT] = 0;
    rf[f + F_PAYLOAD_TO_SERVER] = 0; rf[f + F_PAYLOAD_TO_CLIENT] = 0;
    rf[f + F_LAST_SEC] = tsSec;
    const i = s * ROW_I32;
    this.rowI32[i + I_LAST_NSEC] = tsNsec;
    this.rowI32[i + I_FLAGS] = 0;
    this.rowU8[s * ROW_BYTES + B_INSPECT] = 0;
    this.tcp.start(s);
    this.firstSec[s] = tsSec; this.firstNsec[s] = tsNsec;
  }

  private account(s: number, pos: number, toServer: boolean, tsSec: number, tsNsec: number, wireLen: number, p: DecodedPacket): void {
    const rf = this.rowF64;
    const ri = this.rowI32;
    const f = s * ROW_F64;
    const i = s * ROW_I32;
    rf[f + F_LAST_ORDINAL] = pos;
    let fl = ri[i + I_FLAGS]!;
    if (toServer) {
      rf[f + F_PKTS_TO_SERVER]!++;
      rf[f + F_BYTES_TO_SERVER]! += wireLen;
      rf[f + F_PAYLOAD_TO_SERVER]! += p.payloadLength;
      fl |= ClientSent;
    } else {
      rf[f + F_PKTS_TO_CLIENT]!++;
      rf[f + F_BYTES_TO_CLIENT]! += wireLen;
      rf[f + F_PAYLOAD_TO_CLIENT]! += p.payloadLength;
      fl |= ServerSent;
    }
    if ((fl & AwaitFirst) !== 0) {
      // First packet after an active-timeout cut.
      fl &= ~AwaitFirst;
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
    if (p.anomaly !== 0) this.extras.addAnomaly(s, p.anomaly);
  }

  /** End a flow now: the observer sees its final state, then the slot is recycled. */
  endFlow(slot: number, reason: number): void {
    this.observer?.flowEnded(slot, reason);
    this.index.remove(slot);
    this.lru.release(slot);
    this.extras.release(slot);
    this.serial[slot] = -1;
    if (this.tunnels.live !== 0) this.tunnels.clear(slot);
    this.live--;
  }

  /**
   * The flow clock, advanced by every record (process() calls it): sets the current ordinal, tracks
   * how far timestamps ever step back, and sweeps when a new second of capture time has begun.
   */
  clock(tsSec: number, ordinal: number): void {
    this.currentOrdinal = ordinal;
    if (this.time.advance(tsSec)) this.sweep(tsSec);
  }

  /** Writes what a fast-path run reads of the table's state (fast-state.ts). */
  saveFastState(st: Float64Array): void {
    this.time.saveFastState(st);
    this.lru.saveFastState(st);
    this.index.saveFastState(st);
  }

  /**
   * Takes back what a fast-path run changed besides the rows and links: the clock's high water, the
   * LRU list's ends, and the record being processed (`ordinal`, the last one the run took).
   */
  loadFastState(st: Float64Array, ordinal: number): void {
    this.time.loadFastState(st);
    this.lru.loadFastState(st);
    this.currentOrdinal = ordinal;
  }

  /**
   * Advance the flow clock without a packet to account (non-IP frames, records another worker
   * processes, live-capture ticks). Without `ordinal` the time counts as part of the current record.
   */
  sweepIfDue(nowSec: number, ordinal: number = this.currentOrdinal): void {
    this.clock(nowSec, ordinal);
  }

  /** End idle flows and cut flows older than the active timeout (lifetimes.ts). */
  sweep(nowSec: number): void {
    this.time.sweep(nowSec, this.lru, this.expiry);
  }

  /** Emit the record so far and continue counting on the same slot with fresh counters. */
  private cutActive(s: number): void {
    this.observer?.flowEnded(s, FlowEndReason.ActiveTimeout);
    this.extras.release(s);
    const ri = this.rowI32;
    // The continued record starts without a handshake RTT (the first record reported it).
    const keepFlags = ri[s * ROW_I32 + I_FLAGS]! & ~(ClientSent | ServerSent | RttKnown);
    const inspect = this.rowU8[s * ROW_BYTES + B_INSPECT]!;
    const lastSec = this.rowF64[s * ROW_F64 + F_LAST_SEC]!;
    const lastNsec = ri[s * ROW_I32 + I_LAST_NSEC]!;
    // basis, clientIsA and the key are not touched by initFlow.
    this.initFlow(s, this.serial[s]!, -1, 0);
    this.rowF64[s * ROW_F64 + F_LAST_SEC] = lastSec; // idle expiry still measures from the last packet
    ri[s * ROW_I32 + I_LAST_NSEC] = lastNsec;
    ri[s * ROW_I32 + I_FLAGS] = keepFlags | Continued | AwaitFirst;
    this.rowU8[s * ROW_BYTES + B_INSPECT] = inspect;
  }

  /**
   * End every live flow (end of capture): oldest first, or with `inLruOrder` false in slot order,
   * which reads the rows and columns front to back instead of at random (2.6x faster on a flood's
   * 262,144 flows) for an observer to which the order means nothing (sums). The observer sees each
   * as endFlow() shows it; the index and the LRU list are then emptied at once instead of flow by
   * flow (on a flood, one backward-shift deletion per flow was a third of the flush).
   */
  flush(inLruOrder = true): void {
    if (inLruOrder) {
      for (let s = this.lru.head; s >= 0; ) {
        const next = this.lru.next(s);
        this.endAtFlush(s);
        s = next;
      }
    } else {
      const serial = this.serial;
      for (let s = 0; s < this.slotHighWater; s++) if (serial[s]! >= 0) this.endAtFlush(s);
    }
    this.index.clear();
    this.lru.clear();
  }

  /** endFlow() without the index and LRU updates (flush() empties both at once). */
  private endAtFlush(s: number): void {
    this.observer?.flowEnded(s, FlowEndReason.EndOfCapture);
    this.extras.release(s);
    this.serial[s] = -1;
    if (this.tunnels.live !== 0) this.tunnels.clear(s);
    this.live--;
  }

  /** Whether `s` (below slotHighWater) holds a live flow. */
  isLive(s: number): boolean {
    return this.serial[s]! >= 0;
  }

  /** Slots of live flows in LRU order (for snapshots; allocates, not for the hot path). */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let s = this.lru.head; s >= 0; s = this.lru.next(s)) out.push(s);
    return out;
  }

  /** The flow's Zeek history letters (tcp-state.ts). */
  historyString(s: number): string {
    return this.tcp.historyString(s);
  }

  /** Zeek-style connection state (see docs/output-schema.md). */
  stateName(s: number): string {
    return this.tcp.stateName(s, this.proto(s) === IpProto.TCP);
  }

  /** (code, count) pairs of per-flow anomalies. */
  flowAnomalyPairs(s: number): Array<[number, number]> {
    return this.extras.anomalyPairs(s);
  }
}
