/**
 * A finished flow as a plain record: the transport facts of one conversation (Zeek conn.log
 * style). Built once per flow when it ends, never per packet. The service verdict is attached beside
 * it by classify/, never stored in here.
 */
import { anomalyName } from '../util/anomaly.js';
import { diffSeconds, formatTimestamp } from '../util/time.js';
import { ipProtoName } from '../util/ip-proto.js';
import { formatAddress, vlanIds } from './key.js';
import { FLOW_END_REASON_NAMES } from './lifetimes.js';
import { DIRECTION_BASIS_NAMES } from './roles.js';
import type { FlowTable } from './table.js';
import { FlowFlag } from './tcp-state.js';
import type { TunnelInfo } from './tunnel-store.js';

export type { TunnelInfo } from './tunnel-store.js';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface FlowRecord {
  /**
   * Ordinal (0-based) of the flow's first packet in the capture: unique and stable. A flow found
   * inside a tunnel adds its level / 10 (12.1: the packet inside the first tunnel of record 12).
   */
  id: number;
  transport: string;
  ipVersion: number;
  /** VLAN ids outer first; empty when untagged; null when unknown (a relayed connection). */
  vlan: number[] | null;
  /** Encapsulations the flow was found inside, outer to inner; absent for flows outside tunnels. */
  tunnel?: TunnelInfo[];
  client: Endpoint;
  server: Endpoint;
  /** How client and server were told apart. */
  directionBasis: string;
  /** Frames per direction; null when no frames were seen (a relayed connection). */
  packets: { toServer: number; toClient: number } | null;
  /** Frame wire lengths (pcap orig_len), as in tshark's conversation table; null like `packets`. */
  bytes: { toServer: number; toClient: number } | null;
  /** Transport payload bytes according to the headers. */
  payloadBytes: { toServer: number; toClient: number };
  first: string;
  last: string;
  durationSec: number;
  /** Zeek conn_state (TCP) or one-way/two-way; null when no packets were seen (a relayed connection). */
  state: string | null;
  /** Zeek-style history; null like `state`. */
  history: string | null;
  handshakeRttMs: number | null;
  /** ICMP errors quoting the flow; null when they cannot be seen (a relayed connection). */
  icmpErrors: number | null;
  anomalies: Record<string, number>;
  /** Why the record was written: idle-timeout, active-timeout, port-reuse, evicted, end-of-capture. */
  end: string;
  /** True when this record continues a flow cut by the active timeout. */
  continued: boolean;
}

/** A record built from captured packets: every packet-level field is known. */
export interface CapturedFlowRecord extends FlowRecord {
  vlan: number[];
  packets: { toServer: number; toClient: number };
  bytes: { toServer: number; toClient: number };
  state: string;
  history: string;
  icmpErrors: number;
}

/**
 * The fields a verdict adds to a record, after the transport facts: what classify/types.ts
 * Classification declares and documents (flow/ does not import classify/, so only their shape is here).
 */
export interface RecordVerdict {
  service: unknown;
  verdict: string;
  ambiguous: boolean;
  candidates: unknown;
  basis: string;
  evidence: Record<string, string>;
  exposure: unknown;
}

/**
 * The record of the flow in slot `s`, with `verdict`'s fields after the transport facts when given.
 *
 * One object literal with every key (absent ones undefined, which JSON leaves out): V8 then builds
 * it from one fixed layout. Adding the verdict afterwards (Object.assign), or the tunnel list by a
 * spread in the middle, made each record grow one property at a time: the flow log of a 772k-flow
 * capture took 1.17x as long (paired A/B).
 */
export function describeFlow(t: FlowTable, s: number, reason: number): CapturedFlowRecord;
export function describeFlow<V extends RecordVerdict>(t: FlowTable, s: number, reason: number, verdict: V | null): CapturedFlowRecord & Partial<V>;
export function describeFlow(t: FlowTable, s: number, reason: number, verdict: RecordVerdict | null = null): CapturedFlowRecord & Partial<RecordVerdict> {
  const v = t.ipVersion(s);
  const aIp = formatAddress(v, t.addressA(s, 0), t.addressA(s, 1), t.addressA(s, 2), t.addressA(s, 3));
  const bIp = formatAddress(v, t.addressB(s, 0), t.addressB(s, 1), t.addressB(s, 2), t.addressB(s, 3));
  const a: Endpoint = { ip: aIp, port: t.aPort(s) };
  const b: Endpoint = { ip: bIp, port: t.bPort(s) };
  const clientIsA = t.clientIsA(s);
  const anomalies: Record<string, number> = {};
  for (const [code, count] of t.flowAnomalyPairs(s).sort((x, y) => (anomalyName(x[0]) < anomalyName(y[0]) ? -1 : 1))) {
    anomalies[anomalyName(code)] = count;
  }
  const rtt = t.rttNs(s);
  return {
    id: t.serial[s]!,
    transport: ipProtoName(t.proto(s)),
    ipVersion: v,
    vlan: vlanIds(t.vlan(s)),
    tunnel: t.tunnels.depth(s) !== 0 ? t.tunnels.describe(s) : undefined,
    client: clientIsA ? a : b,
    server: clientIsA ? b : a,
    directionBasis: DIRECTION_BASIS_NAMES[t.basis(s)] ?? 'first-packet',
    packets: { toServer: t.packetsToServer(s), toClient: t.packetsToClient(s) },
    bytes: { toServer: t.bytesToServer(s), toClient: t.bytesToClient(s) },
    payloadBytes: { toServer: t.payloadToServer(s), toClient: t.payloadToClient(s) },
    first: formatTimestamp(t.firstSec[s]!, t.firstNsec[s]!),
    last: formatTimestamp(t.lastSec(s), t.lastNsec(s)),
    durationSec: Math.round(diffSeconds(t.firstSec[s]!, t.firstNsec[s]!, t.lastSec(s), t.lastNsec(s)) * 1e9) / 1e9,
    state: t.stateName(s),
    history: t.historyString(s),
    handshakeRttMs: rtt >= 0 ? Math.round(rtt / 1e3) / 1e3 : null,
    icmpErrors: t.icmpErrors(s),
    anomalies,
    end: FLOW_END_REASON_NAMES[reason] ?? 'end-of-capture',
    continued: (t.flags(s) & FlowFlag.Continued) !== 0,
    service: verdict?.service,
    verdict: verdict?.verdict,
    ambiguous: verdict?.ambiguous,
    candidates: verdict?.candidates,
    basis: verdict?.basis,
    evidence: verdict?.evidence,
    exposure: verdict?.exposure,
  };
}
