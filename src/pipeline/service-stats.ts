/**
 * Per-service totals (flows, packets, bytes, verdict counts), accumulated when flows end (live flows
 * are added for snapshots by live-view.ts). Keyed per flow, not per packet, so a string key is fine.
 */
import type { FlowTable } from '../flow/table.js';
import type { Classification, ServiceRef, Verdict } from '../classify/types.js';
import type { ExposureStatus } from '../classify/exposure.js';
import type { ServiceTotals, SnapshotService } from './results.js';
import { addFlowEncapsulations, mergeEncapsulations, sortEncapsulations } from './encapsulations.js';

export type { ServiceTotals } from './results.js';

/** What one flow adds to its service's totals. */
export interface FlowCounts {
  packetsToServer: number;
  packetsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  payloadToServer: number;
  payloadToClient: number;
}

/** Keys of ambiguous candidate lists (the classifier shares one list object per distinct list). */
const ambiguousKeys = new WeakMap<readonly ServiceRef[], string>();

export function serviceKey(c: Classification | null): string {
  if (c === null) return 'unclassified';
  if (c.service) return c.service.id;
  if (c.ambiguous && c.candidates.length > 0) {
    let key = ambiguousKeys.get(c.candidates);
    if (key === undefined) {
      key = `ambiguous:${c.candidates.map((x) => x.id).join('|')}`;
      ambiguousKeys.set(c.candidates, key);
    }
    return key;
  }
  return 'unknown';
}

/** Zero totals for a service key, described by a classification of one of its flows. */
export function emptyTotals(key: string, c: Classification | null): ServiceTotals {
  return {
    key,
    id: c?.service?.id ?? null,
    product: c?.service?.product ?? null,
    component: c?.service?.component ?? null,
    candidates: c ? c.candidates.map((x) => x.id) : [],
    flows: 0,
    packets: { toServer: 0, toClient: 0 },
    bytes: { toServer: 0, toClient: 0 },
    payloadBytes: { toServer: 0, toClient: 0 },
    verdicts: { verified: 0, mismatch: 0, encrypted: 0, 'port-only': 0, unknown: 0 },
    exposure: { ok: 0, violation: 0, unchecked: 0 },
  };
}

export class ServiceStats {
  private readonly byKey = new Map<string, ServiceTotals>();

  addFlow(t: FlowTable, slot: number, c: Classification | null): void {
    ServiceStats.addTo(this.byKey, t, slot, c);
  }

  /** A flow that is not in a flow table (a relayed connection): its counts given directly. */
  addCounts(c: Classification | null, counts: FlowCounts): void {
    ServiceStats.add(this.byKey, c, counts.packetsToServer, counts.packetsToClient, counts.bytesToServer, counts.bytesToClient, counts.payloadToServer, counts.payloadToClient);
  }

  private static addTo(map: Map<string, ServiceTotals>, t: FlowTable, slot: number, c: Classification | null): ServiceTotals {
    const e = ServiceStats.add(map, c, t.packetsToServer(slot), t.packetsToClient(slot), t.bytesToServer(slot), t.bytesToClient(slot), t.payloadToServer(slot), t.payloadToClient(slot));
    // The field appears with the service's first tunnelled flow (plain services look as before).
    if (t.tunnels.depth(slot) !== 0) addFlowEncapsulations((e.encapsulations ??= []), t, slot);
    return e;
  }

  private static add(
    map: Map<string, ServiceTotals>, c: Classification | null,
    packetsToServer: number, packetsToClient: number, bytesToServer: number, bytesToClient: number, payloadToServer: number, payloadToClient: number,
  ): ServiceTotals {
    const key = serviceKey(c);
    let e = map.get(key);
    if (e === undefined) {
      e = emptyTotals(key, c);
      map.set(key, e);
    }
    e.flows++;
    e.packets.toServer += packetsToServer;
    e.packets.toClient += packetsToClient;
    e.bytes.toServer += bytesToServer;
    e.bytes.toClient += bytesToClient;
    e.payloadBytes.toServer += payloadToServer;
    e.payloadBytes.toClient += payloadToClient;
    if (c) e.verdicts[c.verdict]++;
    if (c?.exposure) e.exposure[c.exposure.status]++;
    return e;
  }

  /** Merge totals from another engine (worker) into this one (a snapshot's live counts are not kept). */
  mergeFrom(list: readonly ServiceTotals[]): void {
    for (const o of list) {
      let e = this.byKey.get(o.key);
      if (e === undefined) {
        const { key, id, product, component, candidates, flows, packets, bytes, payloadBytes, verdicts, exposure } = o;
        e = structuredClone({ key, id, product, component, candidates, flows, packets, bytes, payloadBytes, verdicts, exposure, ...(o.encapsulations ? { encapsulations: o.encapsulations } : {}) });
        this.byKey.set(o.key, e);
        continue;
      }
      if (o.encapsulations) mergeEncapsulations((e.encapsulations ??= []), o.encapsulations);
      e.flows += o.flows;
      e.packets.toServer += o.packets.toServer;
      e.packets.toClient += o.packets.toClient;
      e.bytes.toServer += o.bytes.toServer;
      e.bytes.toClient += o.bytes.toClient;
      e.payloadBytes.toServer += o.payloadBytes.toServer;
      e.payloadBytes.toClient += o.payloadBytes.toClient;
      for (const v of Object.keys(o.verdicts) as Verdict[]) e.verdicts[v] += o.verdicts[v];
      for (const x of Object.keys(o.exposure) as ExposureStatus[]) e.exposure[x] += o.exposure[x];
    }
  }

  /** Sorted by key, so output does not depend on arrival order. */
  list(): ServiceTotals[] {
    return [...this.byKey.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((e) => {
        const c = structuredClone(e);
        // Only services with tunnelled flows carry the field (plain captures look as before).
        if (c.encapsulations === undefined || c.encapsulations.length === 0) delete c.encapsulations;
        else sortEncapsulations(c.encapsulations);
        return c;
      });
  }

  /** Ended flows plus live flows given with their current classification and counts (the proxy). */
  listWithLiveCounts(live: Iterable<readonly [Classification | null, FlowCounts]>): SnapshotService[] {
    const map = new Map<string, SnapshotService>();
    for (const e of this.byKey.values()) map.set(e.key, { ...structuredClone(e), liveFlows: 0 });
    for (const [c, n] of live) {
      const e = ServiceStats.add(map, c, n.packetsToServer, n.packetsToClient, n.bytesToServer, n.bytesToClient, n.payloadToServer, n.payloadToClient) as SnapshotService;
      e.liveFlows = (e.liveFlows ?? 0) + 1;
    }
    return [...map.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
