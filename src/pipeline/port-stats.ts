/**
 * Per-port accounting for the coverage report (export/coverage.ts), fed once per ended flow (never
 * per packet):
 *  - which documented ports were seen: the port a classified flow matched its rules on (the server
 *    port, or the client port when only that one is documented); ICMP rules by rule id;
 *  - unknown server ports: flows no rule documents, per transport and server port, with packets,
 *    bytes and what their payload was (a recognised protocol, unrecognised bytes, or none).
 * Bounded by the port space: counters live in typed arrays of 65536 slots per transport, allocated
 * when that transport first needs them. Exact and merged across worker threads by summing (like
 * ServiceStats), so the report is the same whatever the number of workers.
 */
import type { FlowTable } from '../flow/table.js';
import type { Classification } from '../classify/types.js';

const TCP = 6;
const UDP = 17;
const SCTP = 132;
const ICMP = 1;
const ICMPV6 = 58;

export const PORT_TRANSPORTS = ['tcp', 'udp', 'sctp'] as const;
export type PortTransport = (typeof PORT_TRANSPORTS)[number];

function transportIndex(proto: number): number {
  return proto === TCP ? 0 : proto === UDP ? 1 : proto === SCTP ? 2 : -1;
}

/** One unknown server port (plain data). */
export interface UnknownPortStats {
  transport: PortTransport;
  port: number;
  flows: number;
  packets: number;
  bytes: number;
  /** Flows by what their payload was: a protocol tag, `unrecognised`, or `none` (no payload). */
  payload: Record<string, number>;
}

/** What a PortStats holds, as plain data (worker messages, merging). */
export interface PortStatsData {
  /** Documented ports seen, per transport, ascending. */
  seenPorts: Record<PortTransport, number[]>;
  /** ICMP rules seen (ids). */
  seenIcmpRules: string[];
  /** Unknown server ports with at least one flow, by transport then port. */
  unknown: UnknownPortStats[];
}

const F_FLOWS = 0;
const F_PACKETS = 1;
const F_BYTES = 2;
const F_NONE = 3;
const F_UNRECOGNISED = 4;
const FIELDS = 5;

export class PortStats {
  private readonly seen: Array<Uint8Array | null> = [null, null, null];
  private readonly seenIcmp = new Set<string>();
  /** Per transport: FIELDS counters per port. */
  private readonly counters: Array<Float64Array | null> = [null, null, null];
  /**
   * Per transport, the ports set in `seen` and the ports with counters, in the order first met:
   * toData() reads these instead of scanning 65,536 ports (a cold loop at the end of every run).
   */
  private readonly seenList: number[][] = [[], [], []];
  private readonly unknownList: number[][] = [[], [], []];
  /** Recognised protocols per (transport, port): key transport * 65536 + port. */
  private readonly protocols = new Map<number, Map<string, number>>();

  /**
   * One ended flow. `protocol`: what the recognisers saw on it (classifier.observedProtocol, read
   * before classify() releases it); null when nothing was recognised.
   */
  addFlow(t: FlowTable, s: number, c: Classification | null, protocol: string | null): void {
    this.add(
      t.proto(s), t.serverPort(s), t.clientPort(s), c, protocol,
      t.packetsToServer(s) + t.packetsToClient(s), t.bytesToServer(s) + t.bytesToClient(s), t.payloadToServer(s) + t.payloadToClient(s),
    );
  }

  /**
   * One ended flow given by its facts (a relayed connection: `packets` 0 and `bytes` the payload
   * relayed, as a relay sees no frames). `transport` is the IP protocol number.
   */
  add(transport: number, serverPort: number, clientPort: number, c: Classification | null, protocol: string | null, packets: number, bytes: number, payload: number): void {
    if (c === null) return; // --no-rules: nothing is documented, nothing is unknown
    const ti = transportIndex(transport);
    if (c.candidates.length > 0) {
      if (ti >= 0) {
        const port = c.basis === 'client-port' ? clientPort : serverPort;
        const bits = (this.seen[ti] ??= new Uint8Array(8192));
        const bit = 1 << (port & 7);
        if ((bits[port >>> 3]! & bit) === 0) {
          bits[port >>> 3]! |= bit;
          this.seenList[ti]!.push(port);
        }
      } else if (transport === ICMP || transport === ICMPV6) {
        for (const cand of c.candidates) this.seenIcmp.add(cand.id);
      }
      return;
    }
    if (ti < 0) return; // unknown ICMP or other IP protocols have no server port to report
    const counters = (this.counters[ti] ??= new Float64Array(65536 * FIELDS));
    const base = serverPort * FIELDS;
    if (counters[base + F_FLOWS] === 0) this.unknownList[ti]!.push(serverPort);
    counters[base + F_FLOWS]!++;
    counters[base + F_PACKETS]! += packets;
    counters[base + F_BYTES]! += bytes;
    if (protocol !== null) {
      const key = ti * 65536 + serverPort;
      let m = this.protocols.get(key);
      if (m === undefined) this.protocols.set(key, (m = new Map()));
      m.set(protocol, (m.get(protocol) ?? 0) + 1);
    } else if (payload > 0) {
      counters[base + F_UNRECOGNISED]!++;
    } else {
      counters[base + F_NONE]!++;
    }
  }

  toData(): PortStatsData {
    const seenPorts = { tcp: [], udp: [], sctp: [] } as Record<PortTransport, number[]>;
    const unknown: UnknownPortStats[] = [];
    PORT_TRANSPORTS.forEach((transport, ti) => {
      seenPorts[transport] = [...this.seenList[ti]!].sort((a, b) => a - b);
      const c = this.counters[ti];
      if (!c) return;
      for (const p of [...this.unknownList[ti]!].sort((a, b) => a - b)) {
        const base = p * FIELDS;
        const payload: Record<string, number> = {};
        const protocols = this.protocols.get(ti * 65536 + p);
        if (protocols !== undefined) for (const [name, n] of [...protocols].sort((a, b) => (a[0] < b[0] ? -1 : 1))) payload[name] = n;
        if (c[base + F_UNRECOGNISED]! > 0) payload['unrecognised'] = c[base + F_UNRECOGNISED]!;
        if (c[base + F_NONE]! > 0) payload['none'] = c[base + F_NONE]!;
        unknown.push({ transport, port: p, flows: c[base + F_FLOWS]!, packets: c[base + F_PACKETS]!, bytes: c[base + F_BYTES]!, payload });
      }
    });
    return { seenPorts, seenIcmpRules: [...this.seenIcmp].sort(), unknown };
  }
}

/**
 * Sum of several workers' data (same result as one engine over all flows). One part (in-process,
 * one worker) is already in this form: it is returned as it is, not copied.
 */
export function mergePortStats(parts: readonly PortStatsData[]): PortStatsData {
  if (parts.length === 1) return parts[0]!;
  const seen = { tcp: new Set<number>(), udp: new Set<number>(), sctp: new Set<number>() };
  const icmp = new Set<string>();
  const unknown = new Map<string, UnknownPortStats>();
  for (const part of parts) {
    for (const t of PORT_TRANSPORTS) for (const p of part.seenPorts[t]) seen[t].add(p);
    for (const id of part.seenIcmpRules) icmp.add(id);
    for (const u of part.unknown) {
      const key = `${u.transport}/${u.port}`;
      const e = unknown.get(key);
      if (e === undefined) {
        unknown.set(key, { ...u, payload: { ...u.payload } });
        continue;
      }
      e.flows += u.flows;
      e.packets += u.packets;
      e.bytes += u.bytes;
      for (const [k, n] of Object.entries(u.payload)) e.payload[k] = (e.payload[k] ?? 0) + n;
    }
  }
  const order = (a: UnknownPortStats, b: UnknownPortStats): number =>
    PORT_TRANSPORTS.indexOf(a.transport) - PORT_TRANSPORTS.indexOf(b.transport) || a.port - b.port;
  return {
    seenPorts: { tcp: [...seen.tcp].sort((a, b) => a - b), udp: [...seen.udp].sort((a, b) => a - b), sctp: [...seen.sctp].sort((a, b) => a - b) },
    seenIcmpRules: [...icmp].sort(),
    unknown: [...unknown.values()]
      .map((u) => ({ ...u, payload: Object.fromEntries(Object.entries(u.payload).sort(payloadOrder)) }))
      .sort(order),
  };
}

/** Protocol names alphabetically, then `unrecognised`, then `none`. */
function payloadOrder(a: [string, number], b: [string, number]): number {
  const rank = (k: string): number => (k === 'none' ? 2 : k === 'unrecognised' ? 1 : 0);
  return rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

export const EMPTY_PORT_STATS: PortStatsData = { seenPorts: { tcp: [], udp: [], sctp: [] }, seenIcmpRules: [], unknown: [] };
