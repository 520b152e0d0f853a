/**
 * The engine's view of its live flows for snapshots (dashboard, exporters): per-service totals
 * including live flows, the top live flows by rate, recently ended flows, de-duplicated alerts and
 * the busiest unknown server ports.
 *
 * Cheap at scale: a live flow's classification is computed again only when it may have changed
 * (the flow started, or the classifier saw a payload: the engine marks the slot dirty); otherwise a
 * snapshot reads the cached group/verdict/exposure codes from typed arrays and adds the flow's
 * counters into per-group accumulators. Only the few flows a snapshot lists are turned into
 * objects. Created on the first snapshot that asks for live flows, so a run nobody watches pays
 * nothing.
 */
import type { FlowTable } from '../flow/table.js';
import { FLOW_END_REASON_NAMES } from '../flow/lifetimes.js';
import { formatAddress } from '../flow/key.js';
import { ipProtoName } from '../util/ip-proto.js';
import { VERDICTS, type Classification, type FlowClassifier } from '../classify/types.js';
import { EXPOSURE_STATUSES } from '../classify/exposure.js';
import type { ServiceStats } from './service-stats.js';
import { emptyTotals, serviceKey } from './service-stats.js';
import type { AlertKind, AlertRow, FlowRow, SnapshotDetail, SnapshotService, UnknownPortRow } from './results.js';
import { mergeEncapsulations, sortEncapsulations } from './encapsulations.js';
import { LiveEncapsulations } from './live-encapsulations.js';

/** Bounds of the lists a snapshot carries, whatever the number of flows. */
export const DETAIL_LIMITS = {
  /** Top live flows by rate (then bytes). */
  liveFlows: 40,
  /** Recently ended flows kept for display (newest first). */
  endedFlows: 40,
  /** Of the flows ended between two snapshots, the busiest this many are kept. */
  endedPerInterval: 12,
  /** Alerts listed (newest first) and distinct alert keys remembered. */
  alerts: 200,
  alertKeys: 4096,
  /** Flow ids kept per alert. */
  alertFlowIds: 5,
  /** Unknown server ports listed (by bytes). */
  unknownPorts: 20,
} as const;

const NO_CODE = 255;
const REJECTED = -2;
const ADDED = -1;
const TCP = 6;
const UDP = 17;
const ALERTED_EXPOSURE = 1;
const ALERTED_MISMATCH = 2;
const VIOLATION = EXPOSURE_STATUSES.indexOf('violation');
const MISMATCH = VERDICTS.indexOf('mismatch');

/** One service key's accumulators for live flows (reset at every snapshot). */
interface Group {
  key: string;
  template: Classification | null;
  /** No rule matched (the unknown-ports list counts these flows). */
  unknown: boolean;
  live: number;
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  payloadToServer: number;
  payloadToClient: number;
  verdicts: Float64Array;
  exposure: Float64Array;
}

interface PortCount {
  transport: string;
  port: number;
  flows: number;
  liveFlows: number;
  packets: number;
  bytes: number;
  protocols: Map<string, number>;
}

/** Capture time of a slot's first / last packet as fractional seconds. */
function firstTime(t: FlowTable, s: number): number {
  return t.firstSec[s]! + t.firstNsec[s]! / 1e9;
}
function lastTime(t: FlowTable, s: number): number {
  return t.lastSec(s) + t.lastNsec(s) / 1e9;
}

function clientIp(t: FlowTable, s: number): string {
  return formatAddress(t.ipVersion(s), t.clientAddress(s, 0), t.clientAddress(s, 1), t.clientAddress(s, 2), t.clientAddress(s, 3));
}

function serverIp(t: FlowTable, s: number): string {
  return formatAddress(t.ipVersion(s), t.serverAddress(s, 0), t.serverAddress(s, 1), t.serverAddress(s, 2), t.serverAddress(s, 3));
}

/** A FlowRow from a slot (live, or ending now with `end` set). */
export function flowRowOf(t: FlowTable, s: number, c: Classification | null, rate: number, end: string | null): FlowRow {
  return {
    id: t.serial[s]!,
    live: end === null,
    transport: ipProtoName(t.proto(s)),
    client: { ip: clientIp(t, s), port: t.clientPort(s) },
    server: { ip: serverIp(t, s), port: t.serverPort(s) },
    serviceKey: serviceKey(c),
    verdict: c?.verdict ?? null,
    exposure: c?.exposure?.status ?? null,
    state: t.stateName(s),
    packets: { toServer: t.packetsToServer(s), toClient: t.packetsToClient(s) },
    bytes: { toServer: t.bytesToServer(s), toClient: t.bytesToClient(s) },
    rateBytesPerSec: rate,
    handshakeRttMs: t.rttNs(s) >= 0 ? Math.round(t.rttNs(s) / 1e3) / 1e3 : null,
    firstSec: firstTime(t, s),
    lastSec: lastTime(t, s),
    evidence: c?.evidence ?? {},
    end,
    ...(t.tunnels.depth(s) !== 0 ? { tunnel: t.tunnels.describe(s) } : {}),
  };
}

/**
 * A fixed-size min-heap of (slot, primary, secondary) keeping the `k` largest entries: the top-k of
 * a walk in O(n log k) with no allocation.
 */
class TopK {
  readonly slot: Int32Array;
  readonly primary: Float64Array;
  readonly secondary: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.slot = new Int32Array(k);
    this.primary = new Float64Array(k);
    this.secondary = new Float64Array(k);
  }
  clear(): void {
    this.size = 0;
  }
  private less(i: number, j: number): boolean {
    const p = this.primary;
    return p[i]! < p[j]! || (p[i] === p[j] && this.secondary[i]! < this.secondary[j]!);
  }
  private swap(i: number, j: number): void {
    const s = this.slot[i]!; this.slot[i] = this.slot[j]!; this.slot[j] = s;
    const p = this.primary[i]!; this.primary[i] = this.primary[j]!; this.primary[j] = p;
    const q = this.secondary[i]!; this.secondary[i] = this.secondary[j]!; this.secondary[j] = q;
  }
  /** Returns REJECTED, ADDED, or the slot value it pushed out. */
  offer(slot: number, primary: number, secondary: number): number {
    if (this.size < this.k) {
      let i = this.size++;
      this.slot[i] = slot; this.primary[i] = primary; this.secondary[i] = secondary;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return ADDED;
    }
    if (primary < this.primary[0]! || (primary === this.primary[0] && secondary <= this.secondary[0]!)) return REJECTED;
    const out = this.slot[0]!;
    this.slot[0] = slot; this.primary[0] = primary; this.secondary[0] = secondary;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return out;
  }
  /** Whether offer() would keep an entry with these keys. */
  wouldKeep(primary: number, secondary: number): boolean {
    return this.size < this.k || primary > this.primary[0]! || (primary === this.primary[0] && secondary > this.secondary[0]!);
  }
  /** Indexes into the arrays, largest first. */
  order(): number[] {
    const idx = Array.from({ length: this.size }, (_, i) => i);
    return idx.sort((a, b) => (this.less(a, b) ? 1 : this.less(b, a) ? -1 : 0));
  }
}

/** Alerts de-duplicated per (kind, service, client); bounded, least recently raised forgotten first. */
export class AlertBook {
  private readonly byKey = new Map<string, AlertRow>();
  /** Alert keys forgotten because more than DETAIL_LIMITS.alertKeys were live at once. */
  forgotten = 0;

  raise(kind: AlertKind, service: string, client: string, server: { ip: string; port: number }, flowId: number, timeSec: number, detail: string): void {
    const key = `${kind}|${service}|${client}`;
    let a = this.byKey.get(key);
    if (a === undefined) {
      if (this.byKey.size >= DETAIL_LIMITS.alertKeys) this.forgetOldest();
      a = { kind, serviceKey: service, client, server, count: 0, firstSec: timeSec, lastSec: timeSec, flowIds: [], detail };
      this.byKey.set(key, a);
    }
    a.count++;
    if (timeSec < a.firstSec) a.firstSec = timeSec;
    if (timeSec >= a.lastSec) {
      a.lastSec = timeSec;
      a.server = server;
      a.detail = detail;
    }
    if (!a.flowIds.includes(flowId)) {
      a.flowIds.unshift(flowId);
      if (a.flowIds.length > DETAIL_LIMITS.alertFlowIds) a.flowIds.length = DETAIL_LIMITS.alertFlowIds;
    }
  }

  private forgetOldest(): void {
    let oldestKey: string | null = null;
    let oldest = Infinity;
    for (const [k, a] of this.byKey) {
      if (a.lastSec < oldest) {
        oldest = a.lastSec;
        oldestKey = k;
      }
    }
    if (oldestKey !== null) {
      this.byKey.delete(oldestKey);
      this.forgotten++;
    }
  }

  /** Newest first, at most `limit`. */
  list(limit: number = DETAIL_LIMITS.alerts): AlertRow[] {
    return sortAlerts([...this.byKey.values()]).slice(0, limit).map((a) => ({ ...a, server: { ...a.server }, flowIds: [...a.flowIds] }));
  }
}

/** Newest first; ties by kind, service, client so the order never depends on arrival. */
export function sortAlerts(list: AlertRow[]): AlertRow[] {
  return list.sort((a, b) => b.lastSec - a.lastSec || cmp(a.kind, b.kind) || cmp(a.serviceKey, b.serviceKey) || cmp(a.client, b.client));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function exposureDetail(c: Classification): string {
  const e = c.exposure!;
  const who = e.monitoringHost === false ? `${e.client} client, not a monitoring host` : `${e.client} client`;
  return `${who}; documented for ${e.allowed.join(', ')}`;
}

export class LiveView {
  private readonly dirty: Uint8Array;
  private readonly group: Int32Array;
  private readonly verdict: Uint8Array;
  private readonly exposure: Uint8Array;
  private readonly alerted: Uint8Array;
  private readonly seenSerial: Float64Array;
  private readonly prevBytes: Float64Array;
  /** What the recognisers saw on the flow (index into `protocolNames`, 0 = nothing yet). */
  private readonly protocol: Uint8Array;
  private readonly protocolNames: string[] = [''];
  private readonly protocolCode = new Map<string, number>();
  /** Live unknown-port accumulators for tcp (0..65535) and udp (65536..), reset per snapshot. */
  private readonly portFlows = new Float64Array(2 * 65536);
  private readonly portPackets = new Float64Array(2 * 65536);
  private readonly portBytes = new Float64Array(2 * 65536);
  /** Protocols seen per port, one bit per protocol code below 32. */
  private readonly portProtocols = new Uint32Array(2 * 65536);
  private readonly touchedPorts: number[] = [];
  private readonly groups: Group[] = [];
  private readonly groupOf = new Map<string, number>();
  /**
   * Group, verdict and exposure codes of a shared verdict (the classifier hands out one frozen
   * Classification per port decision, tag sets and client class): a new flow's codes are one
   * identity lookup instead of a service key built and looked up. Bounded by the classifier's cache.
   */
  private readonly codesOfShared = new Map<Classification, SlotCodes>();
  private readonly top = new TopK(DETAIL_LIMITS.liveFlows);
  private readonly endedNow = new TopK(DETAIL_LIMITS.endedPerInterval);
  private endedSeq = 0;
  private readonly endedNowRows = new Map<number, FlowRow>();
  private recentEnded: FlowRow[] = [];
  readonly alerts = new AlertBook();
  /** Unknown server ports of ended flows (key: proto << 16 | port). */
  private readonly endedPorts = new Map<number, PortCount>();
  /** Live flows' encapsulation counts; created with the first tunnelled flow. */
  private encapsulations: LiveEncapsulations | null = null;
  private lastWallMs = 0;

  constructor(
    capacity: number,
    private readonly classifier: FlowClassifier | null,
  ) {
    this.dirty = new Uint8Array(capacity).fill(1);
    this.group = new Int32Array(capacity).fill(-1);
    this.verdict = new Uint8Array(capacity).fill(NO_CODE);
    this.exposure = new Uint8Array(capacity).fill(NO_CODE);
    this.alerted = new Uint8Array(capacity);
    this.seenSerial = new Float64Array(capacity).fill(-1);
    this.prevBytes = new Float64Array(capacity);
    this.protocol = new Uint8Array(capacity);
  }

  private codeOf(protocol: string | null): number {
    if (protocol === null) return 0;
    let c = this.protocolCode.get(protocol);
    if (c === undefined) {
      if (this.protocolNames.length >= 255) return 0;
      c = this.protocolNames.length;
      this.protocolNames.push(protocol);
      this.protocolCode.set(protocol, c);
    }
    return c;
  }

  /** The flow's classification may have changed (it started, or a payload was inspected). */
  markDirty(slot: number): void {
    this.dirty[slot] = 1;
  }

  flowStarted(slot: number): void {
    this.dirty[slot] = 1;
    this.alerted[slot] = 0;
  }

  /**
   * A flow ended with its final classification (`c`; null without rules). `protocol`: what the
   * recognisers saw, for unknown ports. `reason`: a FlowEndReason.
   */
  flowEnded(t: FlowTable, s: number, c: Classification | null, protocol: string | null, reason: number): void {
    this.alertFor(t, s, c);
    // The slot goes on only after an active-timeout cut: it starts a new record with fresh counters.
    this.dirty[s] = 1;
    this.alerted[s] = 0;
    if (c !== null && c.service === null && c.candidates.length === 0) this.countEndedPort(t, s, protocol);
    // Only the interval's busiest ended flows are turned into rows (a flood of small flows costs no objects).
    const n = this.endedSeq++;
    const out = this.endedNow.offer(n, t.bytesToServer(s) + t.bytesToClient(s), -t.serial[s]!);
    if (out === REJECTED) return;
    if (out !== ADDED) this.endedNowRows.delete(out);
    this.endedNowRows.set(n, flowRowOf(t, s, c, 0, FLOW_END_REASON_NAMES[reason] ?? 'end-of-capture'));
  }

  /** Whether the flow ending in `s` will be listed (so its evidence is worth building). */
  wantsRow(t: FlowTable, s: number): boolean {
    return this.endedNow.wouldKeep(t.bytesToServer(s) + t.bytesToClient(s), -t.serial[s]!);
  }

  private countEndedPort(t: FlowTable, s: number, protocol: string | null): void {
    const proto = t.proto(s);
    const port = t.serverPort(s);
    const key = proto * 65536 + port;
    let e = this.endedPorts.get(key);
    if (e === undefined) {
      e = { transport: ipProtoName(proto), port, flows: 0, liveFlows: 0, packets: 0, bytes: 0, protocols: new Map() };
      this.endedPorts.set(key, e);
    }
    e.flows++;
    e.packets += t.packetsToServer(s) + t.packetsToClient(s);
    e.bytes += t.bytesToServer(s) + t.bytesToClient(s);
    if (protocol !== null) e.protocols.set(protocol, (e.protocols.get(protocol) ?? 0) + 1);
  }

  private alertFor(t: FlowTable, s: number, c: Classification | null): void {
    if (c === null) return;
    const a = this.alerted[s]!;
    const isViolation = c.exposure?.status === 'violation';
    const isMismatch = c.verdict === 'mismatch';
    if (!isViolation && !isMismatch) return;
    const key = serviceKey(c);
    const client = clientIp(t, s);
    const server = { ip: serverIp(t, s), port: t.serverPort(s) };
    const id = t.serial[s]!;
    const time = firstTime(t, s);
    if (isViolation && (a & ALERTED_EXPOSURE) === 0) {
      this.alerts.raise('exposure-violation', key, client, server, id, time, exposureDetail(c));
      this.alerted[s] = this.alerted[s]! | ALERTED_EXPOSURE;
    }
    if (isMismatch && (a & ALERTED_MISMATCH) === 0) {
      const seen = this.classifier?.observedProtocol?.(s) ?? c.evidence['protocol'] ?? 'another protocol';
      this.alerts.raise('mismatch', key, client, server, id, time, `payload is ${seen}`);
      this.alerted[s] = this.alerted[s]! | ALERTED_MISMATCH;
    }
  }

  private codesOf(c: Classification | null): SlotCodes {
    let codes = c !== null ? this.codesOfShared.get(c) : undefined;
    if (codes !== undefined) return codes;
    codes = {
      group: this.groupIndex(c),
      verdict: c === null ? NO_CODE : VERDICTS.indexOf(c.verdict),
      exposure: c?.exposure ? EXPOSURE_STATUSES.indexOf(c.exposure.status) : NO_CODE,
    };
    // Only shared verdicts are kept: with --policy every peek is a new object.
    if (c !== null && Object.isFrozen(c)) this.codesOfShared.set(c, codes);
    return codes;
  }

  private groupIndex(c: Classification | null): number {
    const key = serviceKey(c);
    let g = this.groupOf.get(key);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push({
        key,
        template: c,
        unknown: c !== null && c.service === null && c.candidates.length === 0,
        live: 0,
        pktsToServer: 0,
        pktsToClient: 0,
        bytesToServer: 0,
        bytesToClient: 0,
        payloadToServer: 0,
        payloadToClient: 0,
        verdicts: new Float64Array(VERDICTS.length),
        exposure: new Float64Array(EXPOSURE_STATUSES.length),
      });
      this.groupOf.set(key, g);
    }
    return g;
  }

  /**
   * Per-service totals (ended flows from `ended`, live flows as they are now) and, with `detail`,
   * the bounded lists. `wallMs`: now, for rates.
   */
  snapshot(t: FlowTable, ended: ServiceStats, wallMs: number, detail: boolean): { services: SnapshotService[]; detail?: SnapshotDetail } {
    const dt = this.lastWallMs > 0 ? Math.max(1, wallMs - this.lastWallMs) / 1000 : 0;
    this.lastWallMs = wallMs;
    for (const g of this.groups) {
      g.live = g.pktsToServer = g.pktsToClient = g.bytesToServer = g.bytesToClient = g.payloadToServer = g.payloadToClient = 0;
      g.verdicts.fill(0);
      g.exposure.fill(0);
    }
    this.encapsulations?.reset();
    const top = this.top;
    top.clear();
    const classifier = this.classifier;
    // Encapsulation counts only while some live flow is tunnelled (a plain capture pays nothing).
    const encapsulations = t.tunnels.live !== 0 ? (this.encapsulations ??= new LiveEncapsulations(t.capacity)) : null;
    const end = t.slotHighWater;
    // Slot order, not LRU order: the walk reads the row and the per-slot arrays sequentially.
    for (let s = 0; s < end; s++) {
      if (!t.isLive(s)) continue;
      if (this.dirty[s] === 1) {
        this.dirty[s] = 0;
        const c = classifier !== null ? classifier.peek(t, s, false) : null;
        const codes = this.codesOf(c);
        this.group[s] = codes.group;
        this.verdict[s] = codes.verdict;
        this.exposure[s] = codes.exposure;
        this.protocol[s] = this.codeOf(classifier?.observedProtocol?.(s) ?? null);
        if (this.verdict[s] === MISMATCH || this.exposure[s] === VIOLATION) this.alertFor(t, s, classifier!.peek(t, s, true));
        // (Without it no live flow has been tunnelled since the view started: every slot's code is "none".)
        this.encapsulations?.resolve(t, s);
      }
      const g = this.groups[this.group[s]!]!;
      const pts = t.packetsToServer(s);
      const ptc = t.packetsToClient(s);
      const bts = t.bytesToServer(s);
      const btc = t.bytesToClient(s);
      g.live++;
      g.pktsToServer += pts;
      g.pktsToClient += ptc;
      g.bytesToServer += bts;
      g.bytesToClient += btc;
      g.payloadToServer += t.payloadToServer(s);
      g.payloadToClient += t.payloadToClient(s);
      if (this.verdict[s] !== NO_CODE) g.verdicts[this.verdict[s]!]!++;
      if (this.exposure[s] !== NO_CODE) g.exposure[this.exposure[s]!]!++;
      if (encapsulations !== null) encapsulations.add(this.group[s]!, s, pts + ptc, bts + btc);
      if (!detail) continue;
      const bytes = bts + btc;
      const serial = t.serial[s]!;
      let rate = 0;
      if (dt > 0) {
        const prev = this.seenSerial[s] === serial && this.prevBytes[s]! <= bytes ? this.prevBytes[s]! : 0;
        rate = (bytes - prev) / dt;
      }
      this.seenSerial[s] = serial;
      this.prevBytes[s] = bytes;
      top.offer(s, rate, bytes);
      if (g.unknown) {
        const proto = t.proto(s);
        if (proto === TCP || proto === UDP) {
          const i = (proto === TCP ? 0 : 65536) + t.serverPort(s);
          if (this.portFlows[i] === 0) this.touchedPorts.push(i);
          this.portFlows[i]!++;
          this.portPackets[i]! += pts + ptc;
          this.portBytes[i]! += bytes;
          const code = this.protocol[s]!;
          if (code > 0 && code < 32) this.portProtocols[i] = this.portProtocols[i]! | (1 << code);
        }
      }
    }
    const services = this.mergeServices(ended);
    if (!detail) return { services };
    return { services, detail: this.detail(t, dt) };
  }

  private mergeServices(ended: ServiceStats): SnapshotService[] {
    const out = new Map<string, SnapshotService>();
    for (const e of ended.list()) out.set(e.key, { ...e, liveFlows: 0 });
    for (let gi = 0; gi < this.groups.length; gi++) {
      const g = this.groups[gi]!;
      if (g.live === 0) continue;
      let e = out.get(g.key);
      if (e === undefined) {
        e = { ...emptyTotals(g.key, g.template), liveFlows: 0 };
        out.set(g.key, e);
      }
      e.flows += g.live;
      e.liveFlows += g.live;
      e.packets.toServer += g.pktsToServer;
      e.packets.toClient += g.pktsToClient;
      e.bytes.toServer += g.bytesToServer;
      e.bytes.toClient += g.bytesToClient;
      e.payloadBytes.toServer += g.payloadToServer;
      e.payloadBytes.toClient += g.payloadToClient;
      VERDICTS.forEach((v, i) => (e.verdicts[v] += g.verdicts[i]!));
      EXPOSURE_STATUSES.forEach((x, i) => (e.exposure[x] += g.exposure[i]!));
      const tunnelled = this.encapsulations?.countsOf(gi) ?? [];
      // Like ServiceStats: the field appears with the service's first tunnelled flow.
      if (tunnelled.length > 0) {
        mergeEncapsulations((e.encapsulations ??= []), tunnelled);
        sortEncapsulations(e.encapsulations);
      }
    }
    return [...out.values()].sort((a, b) => cmp(a.key, b.key));
  }

  private detail(t: FlowTable, dt: number): SnapshotDetail {
    const livePorts = new Map<number, PortCount>();
    for (const i of this.touchedPorts) {
      const proto = i < 65536 ? TCP : UDP;
      const protocols = new Map<string, number>();
      const bits = this.portProtocols[i]!;
      for (let c = 1; c < 32; c++) if ((bits & (1 << c)) !== 0) protocols.set(this.protocolNames[c]!, 0);
      livePorts.set(proto * 65536 + (i & 0xffff), {
        transport: ipProtoName(proto),
        port: i & 0xffff,
        flows: this.portFlows[i]!,
        liveFlows: this.portFlows[i]!,
        packets: this.portPackets[i]!,
        bytes: this.portBytes[i]!,
        protocols,
      });
      this.portFlows[i] = this.portPackets[i] = this.portBytes[i] = 0;
      this.portProtocols[i] = 0;
    }
    this.touchedPorts.length = 0;
    const top = this.top;
    const flows: FlowRow[] = [];
    for (const i of top.order()) {
      const s = top.slot[i]!;
      const c = this.classifier !== null ? this.classifier.peek(t, s, true) : null;
      flows.push(flowRowOf(t, s, c, dt > 0 ? top.primary[i]! : 0, null));
    }
    // The interval's busiest ended flows join the recent list, newest first.
    const kept = [...this.endedNowRows.values()];
    kept.sort((a, b) => b.lastSec - a.lastSec || b.id - a.id);
    this.recentEnded = [...kept, ...this.recentEnded].slice(0, DETAIL_LIMITS.endedFlows);
    this.endedNow.clear();
    this.endedNowRows.clear();
    flows.push(...this.recentEnded);

    for (const [k, e] of this.endedPorts) {
      const l = livePorts.get(k);
      if (l === undefined) {
        livePorts.set(k, { ...e, protocols: new Map(e.protocols) });
      } else {
        l.flows += e.flows;
        l.packets += e.packets;
        l.bytes += e.bytes;
        for (const [p, n] of e.protocols) l.protocols.set(p, (l.protocols.get(p) ?? 0) + n);
      }
    }
    return { flows, alerts: this.alerts.list(), unknownPorts: unknownPortRows([...livePorts.values()]) };
  }
}

/** What a slot's classification files it under in a snapshot. */
interface SlotCodes {
  group: number;
  verdict: number;
  exposure: number;
}

/** The busiest unknown ports, bounded; protocols most frequent first. */
export function unknownPortRows(list: readonly PortCount[] | readonly UnknownPortRow[]): UnknownPortRow[] {
  const rows = list.map((e) => ({
    transport: e.transport,
    port: e.port,
    flows: e.flows,
    liveFlows: e.liveFlows,
    packets: e.packets,
    bytes: e.bytes,
    protocols:
      e.protocols instanceof Map
        ? [...e.protocols.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([p]) => p)
        : [...e.protocols],
  }));
  rows.sort((a, b) => b.bytes - a.bytes || b.flows - a.flows || cmp(a.transport, b.transport) || a.port - b.port);
  return rows.slice(0, DETAIL_LIMITS.unknownPorts);
}
