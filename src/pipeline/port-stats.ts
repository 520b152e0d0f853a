/**
 * Per-port accounting for the coverage report (export/coverage.ts), fed once per ended flow (never
 * per packet):
 *  - which documented ports were seen: the port a classified flow matched its rules on (the server
 *    port, or the client port when only that one is documented); ICMP rules by rule id;
 *  - unknown server ports: flows no rule documents, per transport and server port, with packets,
 *    bytes and what their payload was (a recognised protocol, unrecognised bytes, or none).
 * Bounded by the port space: counters live in typed arrays sized for 65536 ports per transport,
 * allocated when that transport first needs them. Exact and merged across worker threads by summing (like
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

/** Counters per unknown port (a row), in PortStats and in PortStatsData. */
const F_FLOWS = 0;
const F_PACKETS = 1;
const F_BYTES = 2;
/** Flows without payload. */
const F_NONE = 3;
/** Flows whose payload no recogniser matched. */
const F_UNRECOGNISED = 4;
export const UNKNOWN_PORT_FIELDS = 5;
const FIELDS = UNKNOWN_PORT_FIELDS;

/** One transport's unknown server ports: each port with at least one flow, in the order first met, and its counters. */
export interface UnknownPortRows {
  ports: Int32Array;
  /** UNKNOWN_PORT_FIELDS per port: flows, packets, bytes, flows without payload, flows with unrecognised payload. */
  counts: Float64Array;
}

/** What a PortStats holds, as plain data (worker messages, merging). */
export interface PortStatsData {
  /** Documented ports seen, per transport, ascending. */
  seenPorts: Record<PortTransport, number[]>;
  /** ICMP rules seen (ids). */
  seenIcmpRules: string[];
  /**
   * Unknown server ports per transport. Typed arrays, not an object per port: a flow flood has
   * tens of thousands of these, and building them all at the end of a run, to list the busiest
   * 20, was that run's peak memory. busiestUnknownPorts() and unknownPortList() give objects.
   */
  unknown: Record<PortTransport, UnknownPortRows>;
  /** Flows per recognised protocol on unknown ports: (transport index * 65536 + port, index in protocolNames, flows), by port then name. */
  unknownProtocols: Float64Array;
  protocolNames: string[];
}

/**
 * Ports of one transport in the order first met: a typed list (no array growth leaving copies
 * behind) and each port's position + 1 (0: not listed).
 */
class PortList {
  readonly ports = new Int32Array(65536);
  readonly at = new Int32Array(65536);
  length = 0;

  /** The port's position, listing it first if it is new. */
  indexOf(port: number): number {
    let i = this.at[port]! - 1;
    if (i < 0) {
      i = this.length++;
      this.ports[i] = port;
      this.at[port] = i + 1;
    }
    return i;
  }
}

export class PortStats {
  /** Per transport: documented ports seen (sizes for all 65536 ports up front: pages never reached are never touched). */
  private readonly seen: Array<PortList | null> = [null, null, null];
  private readonly seenIcmp = new Set<string>();
  /** Per transport: the unknown ports, and their counters in rows of FIELDS in the same order. */
  private readonly unknown: Array<PortList | null> = [null, null, null];
  private readonly rows: Array<Float64Array | null> = [null, null, null];
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
      if (ti >= 0) (this.seen[ti] ??= new PortList()).indexOf(c.basis === 'client-port' ? clientPort : serverPort);
      else if (transport === ICMP || transport === ICMPV6) {
        for (const cand of c.candidates) this.seenIcmp.add(cand.id);
      }
      return;
    }
    if (ti < 0) return; // unknown ICMP or other IP protocols have no server port to report
    const base = this.rowBase(ti, serverPort);
    const rows = this.rows[ti]!;
    rows[base + F_FLOWS]!++;
    rows[base + F_PACKETS]! += packets;
    rows[base + F_BYTES]! += bytes;
    if (protocol !== null) this.addProtocol(ti * 65536 + serverPort, protocol, 1);
    else if (payload > 0) rows[base + F_UNRECOGNISED]!++;
    else rows[base + F_NONE]!++;
  }

  /** Adds what another PortStats counted (mergePortStats). */
  addData(d: PortStatsData): void {
    PORT_TRANSPORTS.forEach((transport, ti) => {
      for (const port of d.seenPorts[transport]) (this.seen[ti] ??= new PortList()).indexOf(port);
      const { ports, counts } = d.unknown[transport];
      for (let i = 0; i < ports.length; i++) {
        const base = this.rowBase(ti, ports[i]!);
        const rows = this.rows[ti]!;
        for (let f = 0; f < FIELDS; f++) rows[base + f]! += counts[i * FIELDS + f]!;
      }
    });
    for (const id of d.seenIcmpRules) this.seenIcmp.add(id);
    const p = d.unknownProtocols;
    for (let r = 0; r < p.length; r += 3) this.addProtocol(p[r]!, d.protocolNames[p[r + 1]!]!, p[r + 2]!);
  }

  /** Offset of the port's row in rows[ti] (a new port takes the next row). */
  private rowBase(ti: number, port: number): number {
    let list = this.unknown[ti];
    if (!list) {
      list = this.unknown[ti] = new PortList();
      // Sized for every port up front: pages the rows never reach are never touched.
      this.rows[ti] = new Float64Array(65536 * FIELDS);
    }
    return list.indexOf(port) * FIELDS;
  }

  private addProtocol(key: number, protocol: string, flows: number): void {
    let m = this.protocols.get(key);
    if (m === undefined) this.protocols.set(key, (m = new Map()));
    m.set(protocol, (m.get(protocol) ?? 0) + flows);
  }

  /**
   * As plain data. `copy` false: the unknown ports' arrays are views of this PortStats' own (no
   * copy, but they change if it counts more flows): for the end of a run in the same thread. A
   * message needs copies (a view is cloned with its whole buffer, sized for 65536 ports).
   */
  toData(copy = true): PortStatsData {
    const seenPorts = { tcp: [], udp: [], sctp: [] } as Record<PortTransport, number[]>;
    const unknown = {} as Record<PortTransport, UnknownPortRows>;
    PORT_TRANSPORTS.forEach((transport, ti) => {
      const seen = this.seen[ti];
      // Typed arrays sort numerically without a comparator call per pair.
      if (seen) seenPorts[transport] = Array.from(seen.ports.slice(0, seen.length).sort());
      const list = this.unknown[ti];
      const rows = this.rows[ti];
      if (!list || !rows) {
        unknown[transport] = { ports: new Int32Array(0), counts: new Float64Array(0) };
        return;
      }
      const ports = list.ports.subarray(0, list.length);
      const counts = rows.subarray(0, list.length * FIELDS);
      unknown[transport] = copy ? { ports: ports.slice(), counts: counts.slice() } : { ports, counts };
    });
    const protocolNames: string[] = [];
    const nameIndex = new Map<string, number>();
    const protocols: number[] = [];
    for (const key of [...this.protocols.keys()].sort((a, b) => a - b)) {
      for (const [name, flows] of [...this.protocols.get(key)!].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        let i = nameIndex.get(name);
        if (i === undefined) nameIndex.set(name, (i = protocolNames.push(name) - 1));
        protocols.push(key, i, flows);
      }
    }
    return { seenPorts, seenIcmpRules: [...this.seenIcmp].sort(), unknown, unknownProtocols: Float64Array.from(protocols), protocolNames };
  }
}

/**
 * Sum of several workers' data (same result as one engine over all flows). One part (in-process,
 * one worker) is already in this form: it is returned as it is, not copied.
 */
export function mergePortStats(parts: readonly PortStatsData[]): PortStatsData {
  if (parts.length === 1) return parts[0]!;
  const sum = new PortStats();
  for (const part of parts) sum.addData(part);
  return sum.toData(false);
}

/** Distinct unknown server ports. */
export function unknownPortCount(d: PortStatsData): number {
  let n = 0;
  for (const t of PORT_TRANSPORTS) n += d.unknown[t].ports.length;
  return n;
}

/** Unknown port `i` of transport `ti` (PORT_TRANSPORTS index) as an object. */
function unknownPortAt(d: PortStatsData, ti: number, i: number): UnknownPortStats {
  const transport = PORT_TRANSPORTS[ti]!;
  const { ports, counts } = d.unknown[transport];
  const port = ports[i]!;
  const r = i * FIELDS;
  // Recognised protocols first, by name (their order in the data), then unrecognised, then none.
  const payload: Record<string, number> = {};
  const key = ti * 65536 + port;
  const p = d.unknownProtocols;
  for (let j = firstProtocolRow(p, key); j < p.length && p[j] === key; j += 3) payload[d.protocolNames[p[j + 1]!]!] = p[j + 2]!;
  if (counts[r + F_UNRECOGNISED]! > 0) payload['unrecognised'] = counts[r + F_UNRECOGNISED]!;
  if (counts[r + F_NONE]! > 0) payload['none'] = counts[r + F_NONE]!;
  return { transport, port, flows: counts[r + F_FLOWS]!, packets: counts[r + F_PACKETS]!, bytes: counts[r + F_BYTES]!, payload };
}

/** Every unknown port as an object, by transport then port (small data and tests; a flood has tens of thousands). */
export function unknownPortList(d: PortStatsData): UnknownPortStats[] {
  const out: UnknownPortStats[] = [];
  PORT_TRANSPORTS.forEach((transport, ti) => {
    const ports = d.unknown[transport].ports;
    const order = Array.from(ports.keys()).sort((a, b) => ports[a]! - ports[b]!);
    for (const i of order) out.push(unknownPortAt(d, ti, i));
  });
  return out;
}

/** Rank of each transport (PORT_TRANSPORTS index) by name: sctp, tcp, udp. */
const NAME_RANK = PORT_TRANSPORTS.map((t) => [...PORT_TRANSPORTS].sort().indexOf(t));

/**
 * The `n` busiest unknown ports: by bytes, then flows (both descending), then transport name and
 * port. Objects only for those `n`.
 */
export function busiestUnknownPorts(d: PortStatsData, n: number): UnknownPortStats[] {
  const words = PORT_TRANSPORTS.map((t) => wordsOf(d.unknown[t].counts));
  const ports = PORT_TRANSPORTS.map((t) => d.unknown[t].ports);
  /** Whether row `a` comes before row `b` (rows as transport index * 65536 + position). */
  const before = (a: number, b: number): boolean => {
    const ta = a >>> 16;
    const tb = b >>> 16;
    const ia = a & 0xffff;
    const ib = b & 0xffff;
    const byBytes = compareCounter(words[ta]!, ia, words[tb]!, ib, F_BYTES);
    if (byBytes !== 0) return byBytes > 0;
    const byFlows = compareCounter(words[ta]!, ia, words[tb]!, ib, F_FLOWS);
    if (byFlows !== 0) return byFlows > 0;
    if (ta !== tb) return NAME_RANK[ta]! < NAME_RANK[tb]!;
    return ports[ta]![ia]! < ports[tb]![ib]!;
  };
  // The busiest so far, busiest first (insertion into a short sorted list).
  const top: number[] = [];
  for (let ti = 0; ti < PORT_TRANSPORTS.length; ti++) {
    for (let i = 0; i < ports[ti]!.length; i++) {
      const row = ti * 65536 + i;
      if (top.length === n && (n === 0 || !before(row, top[n - 1]!))) continue;
      let at = top.length === n ? n - 1 : top.length;
      while (at > 0 && before(row, top[at - 1]!)) {
        top[at] = top[at - 1]!;
        at--;
      }
      top[at] = row;
    }
  }
  return top.map((row) => unknownPortAt(d, row >>> 16, row & 0xffff));
}

/** Word offsets of a double's high and low halves in an Int32Array view (platform byte order). */
const HI = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

function wordsOf(counts: Float64Array): Int32Array {
  return new Int32Array(counts.buffer, counts.byteOffset, counts.length * 2);
}

/**
 * Counter `f` of row `a` (in `wa`, an Int32Array view of counts) against that of row `b`: negative
 * when a's is smaller. Counters are non-negative doubles, whose bit patterns order like the
 * numbers, so this compares 32-bit words and never reads a double: this runs once per run, not
 * optimised, and there every double read from a typed array is a new 16-byte heap number (a
 * flood's 27k ports: ~1 MB of garbage at the very end of the run).
 */
function compareCounter(wa: Int32Array, a: number, wb: Int32Array, b: number, f: number): number {
  const ia = (a * FIELDS + f) * 2;
  const ib = (b * FIELDS + f) * 2;
  const ha = wa[ia + HI]!;
  const hb = wb[ib + HI]!;
  if (ha !== hb) return ha < hb ? -1 : 1;
  // Low halves are unsigned: flipping the top bit makes signed order match.
  const la = wa[ia + LO]! ^ -0x80000000;
  const lb = wb[ib + LO]! ^ -0x80000000;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

/** First of the protocol triples (sorted by key) with `key`, or where it would be. */
function firstProtocolRow(p: Float64Array, key: number): number {
  let a = 0;
  let b = p.length / 3;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (p[m * 3]! < key) a = m + 1;
    else b = m;
  }
  return a * 3;
}

/** PortStatsData from plain lists (tests, and anything that builds one by hand). */
export function portStatsData(seenPorts: Record<PortTransport, number[]>, seenIcmpRules: string[], unknown: readonly UnknownPortStats[]): PortStatsData {
  const s = new PortStats();
  s.addData({ ...EMPTY_PORT_STATS, seenPorts, seenIcmpRules });
  for (const u of unknown) {
    const ti = PORT_TRANSPORTS.indexOf(u.transport);
    const names = Object.keys(u.payload).filter((k) => k !== 'none' && k !== 'unrecognised');
    const rows = { ports: Int32Array.of(u.port), counts: Float64Array.of(u.flows, u.packets, u.bytes, u.payload['none'] ?? 0, u.payload['unrecognised'] ?? 0) };
    s.addData({
      ...EMPTY_PORT_STATS,
      unknown: { ...EMPTY_PORT_STATS.unknown, [u.transport]: rows },
      unknownProtocols: Float64Array.from(names.flatMap((name, i) => [ti * 65536 + u.port, i, u.payload[name]!])),
      protocolNames: names,
    });
  }
  return s.toData();
}

const NO_ROWS: UnknownPortRows = { ports: new Int32Array(0), counts: new Float64Array(0) };

export const EMPTY_PORT_STATS: PortStatsData = {
  seenPorts: { tcp: [], udp: [], sctp: [] },
  seenIcmpRules: [],
  unknown: { tcp: NO_ROWS, udp: NO_ROWS, sctp: NO_ROWS },
  unknownProtocols: new Float64Array(0),
  protocolNames: [],
};
