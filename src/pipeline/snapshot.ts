/**
 * Snapshots: the state of a running pipeline for dashboards and exporters, taken a few times per
 * second (wall clock), never per packet. The in-process Engine produces one directly
 * (Engine.snapshot()); each worker posts its own part and the main thread merges them here, so both
 * modes give consumers the same shape.
 */
import type { AlertRow, EngineTotals, FlowRow, ServiceTotals, Snapshot, SnapshotDetail, SnapshotService, UnknownPortRow } from './results.js';
import { DETAIL_LIMITS, sortAlerts, unknownPortRows } from './live-view.js';
import { ServiceStats } from './service-stats.js';

export type { Snapshot } from './results.js';

/** Sums the totals of engines that each processed part of one capture. */
export function mergeTotals(parts: readonly EngineTotals[]): EngineTotals {
  const out: EngineTotals = {
    packets: 0,
    bytes: 0,
    capturedBytes: 0,
    truncatedFrames: 0,
    notIp: 0,
    unattributed: 0,
    flows: 0,
    liveFlows: 0,
    evictedFlows: 0,
    anomalies: {},
    packetsByLinkType: {},
    firstSec: -1,
    firstNsec: 0,
    lastSec: -1,
    lastNsec: 0,
  };
  const anomalies = new Map<string, number>();
  const linkTypes = new Map<number, number>();
  for (const t of parts) {
    out.packets += t.packets;
    out.bytes += t.bytes;
    out.capturedBytes += t.capturedBytes;
    out.truncatedFrames += t.truncatedFrames;
    out.notIp += t.notIp;
    out.unattributed += t.unattributed;
    out.flows += t.flows;
    out.liveFlows += t.liveFlows;
    out.evictedFlows += t.evictedFlows;
    for (const [k, v] of Object.entries(t.anomalies)) anomalies.set(k, (anomalies.get(k) ?? 0) + v);
    for (const [k, v] of Object.entries(t.packetsByLinkType)) linkTypes.set(Number(k), (linkTypes.get(Number(k)) ?? 0) + v);
    // Every worker sees every record's time, so the parts agree; the earliest/latest is taken anyway.
    if (t.firstSec >= 0 && (out.firstSec < 0 || t.firstSec < out.firstSec || (t.firstSec === out.firstSec && t.firstNsec < out.firstNsec))) {
      out.firstSec = t.firstSec;
      out.firstNsec = t.firstNsec;
    }
    if (t.lastSec > out.lastSec || (t.lastSec === out.lastSec && t.lastNsec > out.lastNsec)) {
      out.lastSec = t.lastSec;
      out.lastNsec = t.lastNsec;
    }
  }
  // Same key order as AnomalyCounters.toRecord (by name) and as the engine's link-type record.
  for (const k of [...anomalies.keys()].sort()) out.anomalies[k] = anomalies.get(k)!;
  for (const k of [...linkTypes.keys()].sort((a, b) => a - b)) out.packetsByLinkType[String(k)] = linkTypes.get(k)!;
  return out;
}

/** Merges per-service lists (sums per key; sorted by key like ServiceStats.list()). */
export function mergeServices(parts: readonly (readonly ServiceTotals[])[]): ServiceTotals[] {
  const stats = new ServiceStats();
  for (const p of parts) stats.mergeFrom(p);
  return stats.list();
}

/** Merges the per-service lists of snapshot parts, live flow counts included. */
export function mergeSnapshotServices(parts: readonly (readonly SnapshotService[])[]): SnapshotService[] {
  const live = new Map<string, number>();
  for (const p of parts) for (const e of p) live.set(e.key, (live.get(e.key) ?? 0) + e.liveFlows);
  return mergeServices(parts).map((e) => ({ ...e, liveFlows: live.get(e.key) ?? 0 }));
}

/** One snapshot from the parts the workers posted. */
export function mergeSnapshots(
  parts: readonly Snapshot[],
  pipeline: { workers: number; engineDrops: number; inFlightChunks: number },
): Snapshot {
  let takenAt = 0;
  for (const p of parts) if (p.takenAt > takenAt) takenAt = p.takenAt;
  return {
    takenAt,
    workers: pipeline.workers,
    totals: mergeTotals(parts.map((p) => p.totals)),
    services: mergeSnapshotServices(parts.map((p) => p.services)),
    engineDrops: pipeline.engineDrops,
    inFlightChunks: pipeline.inFlightChunks,
    ...(parts.some((p) => p.detail !== undefined) ? { detail: mergeDetail(parts.flatMap((p) => (p.detail ? [p.detail] : []))) } : {}),
  };
}

/**
 * The workers' detail lists as one: the top live flows of all, the newest ended ones, alerts
 * summed per key, unknown ports summed per port (each worker lists its own busiest ports, so a
 * port spread thinly over many workers may be missing: a display list, not an account).
 */
export function mergeDetail(parts: readonly SnapshotDetail[]): SnapshotDetail {
  const live: FlowRow[] = [];
  const ended: FlowRow[] = [];
  for (const p of parts) for (const f of p.flows) (f.live ? live : ended).push(f);
  live.sort((a, b) => b.rateBytesPerSec - a.rateBytesPerSec || bytesOf(b) - bytesOf(a) || a.id - b.id);
  ended.sort((a, b) => b.lastSec - a.lastSec || b.id - a.id);
  const alerts = new Map<string, AlertRow>();
  for (const p of parts) {
    for (const a of p.alerts) {
      const key = `${a.kind}|${a.serviceKey}|${a.client}`;
      const e = alerts.get(key);
      if (e === undefined) {
        alerts.set(key, { ...a, flowIds: [...a.flowIds] });
        continue;
      }
      e.count += a.count;
      e.firstSec = Math.min(e.firstSec, a.firstSec);
      if (a.lastSec > e.lastSec) {
        e.lastSec = a.lastSec;
        e.server = a.server;
        e.detail = a.detail;
      }
      e.flowIds = [...new Set([...e.flowIds, ...a.flowIds])].sort((x, y) => y - x).slice(0, DETAIL_LIMITS.alertFlowIds);
    }
  }
  const ports = new Map<string, UnknownPortRow>();
  for (const p of parts) {
    for (const u of p.unknownPorts) {
      const key = `${u.transport}/${u.port}`;
      const e = ports.get(key);
      if (e === undefined) {
        ports.set(key, { ...u, protocols: [...u.protocols] });
        continue;
      }
      e.flows += u.flows;
      e.liveFlows += u.liveFlows;
      e.packets = e.packets === null || u.packets === null ? null : e.packets + u.packets;
      e.bytes += u.bytes;
      for (const proto of u.protocols) if (!e.protocols.includes(proto)) e.protocols.push(proto);
    }
  }
  return {
    flows: [...live.slice(0, DETAIL_LIMITS.liveFlows), ...ended.slice(0, DETAIL_LIMITS.endedFlows)],
    alerts: sortAlerts([...alerts.values()]).slice(0, DETAIL_LIMITS.alerts),
    unknownPorts: unknownPortRows([...ports.values()]),
  };
}

function bytesOf(f: FlowRow): number {
  return f.bytes.toServer + f.bytes.toClient;
}
