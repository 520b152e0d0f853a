/**
 * The dashboard's detail lists for the proxy (Snapshot.detail, the same shape capture mode gives):
 * the busiest open connections by relay rate, the most recently closed ones, alerts de-duplicated
 * per (kind, service, client) with capture mode's AlertBook, and the busiest upstream ports no rule
 * documents. Built per snapshot from the open connections (at most --max-connections) and bounded
 * lists of closed ones; never per byte.
 *
 * A relay sees no frames: a row's `bytes` are the payload bytes relayed, `packets` and `state` are
 * null (pipeline/results.ts FlowRow).
 */
import type { Classification } from '../classify/types.js';
import type { Endpoint, FlowRow, SnapshotDetail, UnknownPortRow } from '../pipeline/results.js';
import { AlertBook, DETAIL_LIMITS, exposureDetail } from '../pipeline/live-view.js';
import { serviceKey } from '../pipeline/service-stats.js';

/** An open or closed connection as the detail lists need it. */
export interface RelayRowSource {
  id: number;
  transport: 'tcp' | 'udp';
  client: Endpoint;
  server: Endpoint;
  startMs: number;
  payloadToServer: number;
  payloadToClient: number;
}

interface PortCount {
  transport: string;
  port: number;
  flows: number;
  liveFlows: number;
  bytes: number;
  protocols: Map<string, number>;
}

export class ProxyDetail {
  private readonly alerts = new AlertBook();
  /** Alerts already raised for an open connection: `${id}|kind`. */
  private readonly alerted = new Set<string>();
  private recentEnded: FlowRow[] = [];
  private readonly endedPorts = new Map<string, PortCount>();
  private readonly prevBytes = new Map<number, number>();
  private lastWallMs = 0;

  /** A connection closed: keep its row, raise its alerts, count an unknown upstream port. */
  ended(r: RelayRowSource, c: Classification | null, end: string, endMs: number): void {
    this.raise(r, c, endMs);
    for (const kind of ['exposure-violation', 'mismatch']) this.alerted.delete(`${r.id}|${kind}`);
    this.prevBytes.delete(r.id);
    this.recentEnded.unshift(rowOf(r, c, 0, endMs, end));
    if (this.recentEnded.length > DETAIL_LIMITS.endedFlows) this.recentEnded.length = DETAIL_LIMITS.endedFlows;
    if (isUnknown(c)) addPort(this.endedPorts, r, c, false);
  }

  snapshot(live: Iterable<readonly [RelayRowSource, Classification | null]>, wallMs: number): SnapshotDetail {
    const dt = this.lastWallMs > 0 ? Math.max(1, wallMs - this.lastWallMs) / 1000 : 0;
    this.lastWallMs = wallMs;
    const rows: FlowRow[] = [];
    const ports = new Map<string, PortCount>();
    for (const [k, e] of this.endedPorts) ports.set(k, { ...e, liveFlows: 0, protocols: new Map(e.protocols) });
    for (const [r, c] of live) {
      const bytes = r.payloadToServer + r.payloadToClient;
      const prev = this.prevBytes.get(r.id) ?? 0;
      this.prevBytes.set(r.id, bytes);
      rows.push(rowOf(r, c, dt > 0 ? (bytes - prev) / dt : 0, wallMs, null));
      this.raise(r, c, wallMs);
      if (isUnknown(c)) addPort(ports, r, c, true);
    }
    rows.sort((a, b) => b.rateBytesPerSec - a.rateBytesPerSec || total(b) - total(a) || a.id - b.id);
    if (rows.length > DETAIL_LIMITS.liveFlows) rows.length = DETAIL_LIMITS.liveFlows;
    const unknownPorts: UnknownPortRow[] = [...ports.values()]
      .sort((a, b) => b.bytes - a.bytes || b.flows - a.flows || a.port - b.port)
      .slice(0, DETAIL_LIMITS.unknownPorts)
      .map((p) => ({
        transport: p.transport,
        port: p.port,
        flows: p.flows,
        liveFlows: p.liveFlows,
        packets: null,
        bytes: p.bytes,
        protocols: [...p.protocols.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name),
      }));
    return { flows: [...rows, ...this.recentEnded], alerts: this.alerts.list(), unknownPorts };
  }

  private raise(r: RelayRowSource, c: Classification | null, nowMs: number): void {
    if (c === null) return;
    const key = serviceKey(c);
    if (c.exposure?.status === 'violation' && !this.alerted.has(`${r.id}|exposure-violation`)) {
      this.alerted.add(`${r.id}|exposure-violation`);
      this.alerts.raise('exposure-violation', key, r.client.ip, r.server, r.id, nowMs / 1000, exposureDetail(c));
    }
    if (c.verdict === 'mismatch' && !this.alerted.has(`${r.id}|mismatch`)) {
      this.alerted.add(`${r.id}|mismatch`);
      this.alerts.raise('mismatch', key, r.client.ip, r.server, r.id, nowMs / 1000, `payload is ${c.evidence['protocol'] ?? 'another protocol'}`);
    }
  }
}

function rowOf(r: RelayRowSource, c: Classification | null, rate: number, lastMs: number, end: string | null): FlowRow {
  return {
    id: r.id,
    live: end === null,
    transport: r.transport,
    client: r.client,
    server: r.server,
    serviceKey: serviceKey(c),
    verdict: c?.verdict ?? null,
    exposure: c?.exposure?.status ?? null,
    state: null,
    packets: null,
    bytes: { toServer: r.payloadToServer, toClient: r.payloadToClient },
    rateBytesPerSec: rate,
    handshakeRttMs: null,
    firstSec: r.startMs / 1000,
    lastSec: lastMs / 1000,
    evidence: c?.evidence ?? {},
    end,
  };
}

function total(f: FlowRow): number {
  return f.bytes.toServer + f.bytes.toClient;
}

/** No rule matched the upstream port (the unknown-ports list). */
function isUnknown(c: Classification | null): c is Classification {
  return c !== null && c.service === null && c.candidates.length === 0;
}

function addPort(map: Map<string, PortCount>, r: RelayRowSource, c: Classification, live: boolean): void {
  const key = `${r.transport}/${r.server.port}`;
  let e = map.get(key);
  if (e === undefined) {
    e = { transport: r.transport, port: r.server.port, flows: 0, liveFlows: 0, bytes: 0, protocols: new Map() };
    map.set(key, e);
  }
  e.flows++;
  if (live) e.liveFlows++;
  e.bytes += r.payloadToServer + r.payloadToClient;
  const p = c.evidence['protocol'];
  if (p !== undefined) e.protocols.set(p, (e.protocols.get(p) ?? 0) + 1);
}
