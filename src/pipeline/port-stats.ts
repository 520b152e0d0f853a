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

/** Counters per unknown port (a row), in PortStats and in PortStatsData.unknownCounts. */
const F_FLOWS = 0;
const F_PACKETS = 1;
const F_BYTES = 2;
/** Flows without payload. */
const F_NONE = 3;
/** Flows whose payload no recogniser matched. */
const F_UNRECOGNISED = 4;
export const UNKNOWN_PORT_FIELDS = 5;
const FIELDS = UNKNOWN_PORT_FIELDS;

/** What a PortStats holds, as plain data (worker messages, merging). */
export interface PortStatsData {
  /** Documented ports seen, per transport, ascending. */
  seenPorts: Record<PortTransport, number[]>;
  /** ICMP rules seen (ids). */
  seenIcmpRules: string[];
  /**
   * Unknown server ports with at least one flow, one row each: transport index (tcp 0, udp 1,
   * sctp 2) * 65536 + port, by transport, in the order first met (unknownPortList() sorts).
   * Typed arrays, not an object per port: a flow flood has tens of thousands of these, and building
   * them all at the end of a run, to list the busiest 20, was that run's peak memory.
   * busiestUnknownPorts() and unknownPortList() give them as objects.
   */
  unknownKeys: Int32Array;
  /** UNKNOWN_PORT_FIELDS counters per row: flows, packets, bytes, flows without payload, flows with unrecognised payload. */
  unknownCounts: Float64Array;
  /** Flows per recognised protocol on unknown ports: (port key, index in protocolNames, flows), by key then name. */
  unknownProtocols: Float64Array;
  protocolNames: string[];
}

export class PortStats {
  private readonly seen: Array<Uint8Array | null> = [null, null, null];
  private readonly seenIcmp = new Set<string>();
  /**
   * Per transport, unknown ports' counters in rows of FIELDS, in the order first met (rows fill
   * from the start: memory for the ports met, however they spread over the port space, and one
   * copy hands them over), each port's row + 1 (0: none), and the port of each row.
   */
  private readonly rows: Array<Float64Array | null> = [null, null, null];
  private readonly rowOf: Array<Int32Array | null> = [null, null, null];
  private readonly unknownList: number[][] = [[], [], []];
  /** Per transport, the ports set in `seen` in the order first met (toData() reads these, not 65,536 bits). */
  private readonly seenList: number[][] = [[], [], []];
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
      if (ti >= 0) this.seePort(ti, c.basis === 'client-port' ? clientPort : serverPort);
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
      for (const port of d.seenPorts[transport]) this.seePort(ti, port);
    });
    for (const id of d.seenIcmpRules) this.seenIcmp.add(id);
    const keys = d.unknownKeys;
    const counts = d.unknownCounts;
    for (let i = 0; i < keys.length; i++) {
      const ti = keys[i]! >>> 16;
      const base = this.rowBase(ti, keys[i]! & 0xffff);
      const rows = this.rows[ti]!;
      for (let f = 0; f < FIELDS; f++) rows[base + f]! += counts[i * FIELDS + f]!;
    }
    const p = d.unknownProtocols;
    for (let r = 0; r < p.length; r += 3) this.addProtocol(p[r]!, d.protocolNames[p[r + 1]!]!, p[r + 2]!);
  }

  private seePort(ti: number, port: number): void {
    const bits = (this.seen[ti] ??= new Uint8Array(8192));
    const bit = 1 << (port & 7);
    if ((bits[port >>> 3]! & bit) === 0) {
      bits[port >>> 3]! |= bit;
      this.seenList[ti]!.push(port);
    }
  }

  /** Offset of the port's row in rows[ti], taking the next row when the port is new. */
  private rowBase(ti: number, port: number): number {
    let rowOf = this.rowOf[ti];
    if (!rowOf) {
      rowOf = this.rowOf[ti] = new Int32Array(65536);
      // Sized for every port up front: pages the rows never reach are never touched.
      this.rows[ti] = new Float64Array(65536 * FIELDS);
    }
    let r = rowOf[port]! - 1;
    if (r < 0) {
      r = this.unknownList[ti]!.push(port) - 1;
      rowOf[port] = r + 1;
    }
    return r * FIELDS;
  }

  private addProtocol(key: number, protocol: string, flows: number): void {
    let m = this.protocols.get(key);
    if (m === undefined) this.protocols.set(key, (m = new Map()));
    m.set(protocol, (m.get(protocol) ?? 0) + flows);
  }

  /**
   * As plain data. Nothing per port on the heap (code that runs once is not optimised: each number
   * read from a Float64Array there is a 16-byte heap object, each for-of step an iterator result):
   * the rows are copied in one call per transport.
   */
  toData(): PortStatsData {
    const seenPorts = { tcp: [], udp: [], sctp: [] } as Record<PortTransport, number[]>;
    let n = 0;
    for (const list of this.unknownList) n += list.length;
    const unknownKeys = new Int32Array(n);
    const unknownCounts = new Float64Array(n * FIELDS);
    let at = 0;
    PORT_TRANSPORTS.forEach((transport, ti) => {
      seenPorts[transport] = [...this.seenList[ti]!].sort((a, b) => a - b);
      const list = this.unknownList[ti]!;
      const rows = this.rows[ti];
      if (!rows || list.length === 0) return;
      unknownCounts.set(rows.subarray(0, list.length * FIELDS), at * FIELDS);
      for (let i = 0; i < list.length; i++) unknownKeys[at + i] = ti * 65536 + list[i]!;
      at += list.length;
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
    return { seenPorts, seenIcmpRules: [...this.seenIcmp].sort(), unknownKeys, unknownCounts, unknownProtocols: Float64Array.from(protocols), protocolNames };
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
  return sum.toData();
}

/** Distinct unknown server ports. */
export function unknownPortCount(d: PortStatsData): number {
  return d.unknownKeys.length;
}

/** Unknown port of row `i` as an object. */
export function unknownPortAt(d: PortStatsData, i: number): UnknownPortStats {
  const key = d.unknownKeys[i]!;
  const c = d.unknownCounts;
  const r = i * FIELDS;
  // Recognised protocols first, by name (their order in the data), then unrecognised, then none.
  const payload: Record<string, number> = {};
  const p = d.unknownProtocols;
  for (let j = firstProtocolRow(p, key); j < p.length && p[j] === key; j += 3) payload[d.protocolNames[p[j + 1]!]!] = p[j + 2]!;
  if (c[r + F_UNRECOGNISED]! > 0) payload['unrecognised'] = c[r + F_UNRECOGNISED]!;
  if (c[r + F_NONE]! > 0) payload['none'] = c[r + F_NONE]!;
  return { transport: PORT_TRANSPORTS[key >>> 16]!, port: key & 0xffff, flows: c[r + F_FLOWS]!, packets: c[r + F_PACKETS]!, bytes: c[r + F_BYTES]!, payload };
}

/** Every unknown port as an object, by transport then port (small data and tests; a flood has tens of thousands). */
export function unknownPortList(d: PortStatsData): UnknownPortStats[] {
  const rows = Array.from(d.unknownKeys.keys()).sort((a, b) => d.unknownKeys[a]! - d.unknownKeys[b]!);
  return rows.map((i) => unknownPortAt(d, i));
}

/**
 * The `n` busiest unknown ports: by bytes, then flows (both descending), then transport name and
 * port. Objects only for those `n`.
 */
export function busiestUnknownPorts(d: PortStatsData, n: number): UnknownPortStats[] {
  // Rows of the busiest so far, busiest first (insertion into a short sorted list).
  const top: number[] = [];
  for (let i = 0; i < d.unknownKeys.length; i++) {
    if (top.length === n && (n === 0 || !busier(d, i, top[n - 1]!))) continue;
    let at = top.length === n ? n - 1 : top.length;
    while (at > 0 && busier(d, i, top[at - 1]!)) {
      top[at] = top[at - 1]!;
      at--;
    }
    top[at] = i;
  }
  return top.map((i) => unknownPortAt(d, i));
}

/** Whether row `a` is listed before row `b` in busiestUnknownPorts' order. */
function busier(d: PortStatsData, a: number, b: number): boolean {
  const c = d.unknownCounts;
  const ra = a * FIELDS;
  const rb = b * FIELDS;
  if (c[ra + F_BYTES] !== c[rb + F_BYTES]) return c[ra + F_BYTES]! > c[rb + F_BYTES]!;
  if (c[ra + F_FLOWS] !== c[rb + F_FLOWS]) return c[ra + F_FLOWS]! > c[rb + F_FLOWS]!;
  const ka = d.unknownKeys[a]!;
  const kb = d.unknownKeys[b]!;
  const ta = PORT_TRANSPORTS[ka >>> 16]!;
  const tb = PORT_TRANSPORTS[kb >>> 16]!;
  if (ta !== tb) return ta < tb;
  return (ka & 0xffff) < (kb & 0xffff);
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
    const key = PORT_TRANSPORTS.indexOf(u.transport) * 65536 + u.port;
    const names = Object.keys(u.payload).filter((k) => k !== 'none' && k !== 'unrecognised');
    s.addData({
      ...EMPTY_PORT_STATS,
      unknownKeys: Int32Array.of(key),
      unknownCounts: Float64Array.of(u.flows, u.packets, u.bytes, u.payload['none'] ?? 0, u.payload['unrecognised'] ?? 0),
      unknownProtocols: Float64Array.from(names.flatMap((name, i) => [key, i, u.payload[name]!])),
      protocolNames: names,
    });
  }
  return s.toData();
}

export const EMPTY_PORT_STATS: PortStatsData = {
  seenPorts: { tcp: [], udp: [], sctp: [] },
  seenIcmpRules: [],
  unknownKeys: new Int32Array(0),
  unknownCounts: new Float64Array(0),
  unknownProtocols: new Float64Array(0),
  protocolNames: [],
};
