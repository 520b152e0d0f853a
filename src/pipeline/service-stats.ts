/**
 * Per-service totals (flows, packets, bytes, verdict counts), accumulated when flows end (live flows
 * are added for snapshots by live-view.ts). Keyed per flow, not per packet, so a string key is fine.
 */
import type { FlowTable } from '../flow/table.js';
import { VERDICTS, type Classification, type ServiceRef, type Verdict } from '../classify/types.js';
import { EXPOSURE_STATUSES, type ExposureStatus } from '../classify/exposure.js';
import type { ClassifiedFlow, ServiceTotals, SnapshotService } from './results.js';
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

const VERIFIED = VERDICTS.indexOf('verified');
const MISMATCH = VERDICTS.indexOf('mismatch');
const ENCRYPTED = VERDICTS.indexOf('encrypted');
const PORT_ONLY = VERDICTS.indexOf('port-only');
const UNKNOWN = VERDICTS.indexOf('unknown');
const OK = EXPOSURE_STATUSES.indexOf('ok');
const VIOLATION = EXPOSURE_STATUSES.indexOf('violation');
const UNCHECKED = EXPOSURE_STATUSES.indexOf('unchecked');

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

/** The service key of a flow record: serviceKey of its classification (`unclassified` without rules). */
export function recordServiceKey(f: ClassifiedFlow): string {
  return serviceKey(f.verdict === undefined ? null : (f as Classification));
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

/**
 * Where a flow with a given verdict object adds up: its service's totals and the verdict and
 * exposure counters to increment, resolved once per shared verdict instead of once per flow.
 */
interface Target {
  readonly e: ServiceTotals;
  /** Index in VERDICTS, -1 for an unclassified flow. */
  readonly verdict: number;
  /** Index in EXPOSURE_STATUSES, -1 without an exposure. */
  readonly exposure: number;
}

/** Bound on the verdict objects remembered (the classifier shares a few hundred at most). */
const MAX_TARGETS = 4096;

export class ServiceStats {
  private readonly byKey = new Map<string, ServiceTotals>();
  /**
   * Targets by verdict object, for the classifier's shared (frozen) verdicts only: a flow with its own
   * copy (one carrying evidence details) is never seen again, so remembering it would only grow.
   */
  private readonly targets = new Map<Classification, Target>();
  private unclassified: Target | null = null;
  /** The last shared verdict added up, and its target. */
  private lastVerdict: Classification | null = null;
  private lastTarget: Target | null = null;

  addFlow(t: FlowTable, slot: number, c: Classification | null): void {
    // A flood ends hundreds of thousands of flows: no key string, no keyed increment per flow.
    let target: Target | null;
    if (c !== null && c === this.lastVerdict) {
      target = this.lastTarget;
    } else {
      target = (c === null ? this.unclassified : this.targets.get(c)) ?? this.remember(c);
      if (c !== null && target !== null) {
        // Flows of one kind often end in a row with the same shared verdict (a DNS flood).
        this.lastVerdict = c;
        this.lastTarget = target;
      }
    }
    if (target === null) {
      // A verdict of the flow's own (a copy carrying evidence details): looked up by key.
      const e = ServiceStats.add(this.byKey, c, t.packetsToServer(slot), t.packetsToClient(slot), t.bytesToServer(slot), t.bytesToClient(slot), t.payloadToServer(slot), t.payloadToClient(slot));
      if (t.tunnels.depth(slot) !== 0) addFlowEncapsulations((e.encapsulations ??= []), t, slot);
      return;
    }
    const e = target.e;
    e.flows++;
    const packets = e.packets;
    packets.toServer += t.packetsToServer(slot);
    packets.toClient += t.packetsToClient(slot);
    const bytes = e.bytes;
    bytes.toServer += t.bytesToServer(slot);
    bytes.toClient += t.bytesToClient(slot);
    const payload = e.payloadBytes;
    payload.toServer += t.payloadToServer(slot);
    payload.toClient += t.payloadToClient(slot);
    const v = e.verdicts;
    switch (target.verdict) {
      case VERIFIED: v.verified++; break;
      case MISMATCH: v.mismatch++; break;
      case ENCRYPTED: v.encrypted++; break;
      case PORT_ONLY: v['port-only']++; break;
      case UNKNOWN: v.unknown++; break;
    }
    const x = e.exposure;
    switch (target.exposure) {
      case OK: x.ok++; break;
      case VIOLATION: x.violation++; break;
      case UNCHECKED: x.unchecked++; break;
    }
    // The field appears with the service's first tunnelled flow (plain services look as before).
    if (t.tunnels.depth(slot) !== 0) addFlowEncapsulations((e.encapsulations ??= []), t, slot);
  }

  /**
   * Resolves and remembers the target of `c` when it is shared (frozen by the classifier) or null
   * (unclassified); returns null for a verdict of one flow's own, or once MAX_TARGETS are remembered.
   */
  private remember(c: Classification | null): Target | null {
    if (c !== null && (!Object.isFrozen(c) || this.targets.size >= MAX_TARGETS)) return null;
    const key = serviceKey(c);
    let e = this.byKey.get(key);
    if (e === undefined) {
      e = emptyTotals(key, c);
      this.byKey.set(key, e);
    }
    const target: Target = {
      e,
      verdict: c === null ? -1 : VERDICTS.indexOf(c.verdict),
      exposure: c?.exposure ? EXPOSURE_STATUSES.indexOf(c.exposure.status) : -1,
    };
    if (c === null) this.unclassified = target;
    else this.targets.set(c, target);
    return target;
  }

  /** A flow that is not in a flow table (a relayed connection): its counts given directly. */
  addCounts(c: Classification | null, counts: FlowCounts): void {
    ServiceStats.add(this.byKey, c, counts.packetsToServer, counts.packetsToClient, counts.bytesToServer, counts.bytesToClient, counts.payloadToServer, counts.payloadToClient);
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
