/**
 * Encapsulation counts (which tunnels carried a service's flows, per type and id) for the summary:
 * tallied per flow when it ends, from the flow's encapsulation stack (flow/tunnel-store.ts), never
 * per packet. A flow counts once for every encapsulation it was found inside, at any depth; the
 * outer flow of a tunnel (the VXLAN UDP flow itself) counts for none.
 */
import { tunnelTypeName } from '../decode/tunnel.js';
import type { FlowTable } from '../flow/table.js';
import type { EncapsulationCount, ServiceTotals } from './results.js';

function find(list: EncapsulationCount[], type: string, id: number | null): EncapsulationCount {
  for (const e of list) if (e.type === type && e.id === id) return e;
  const e: EncapsulationCount = { type, id, flows: 0, packets: 0, bytes: 0 };
  list.push(e);
  return e;
}

/** Adds the flow in `slot` (about to end) to `list`, once per distinct encapsulation of its stack. */
export function addFlowEncapsulations(list: EncapsulationCount[], t: FlowTable, slot: number): void {
  const depth = t.tunnels.depth(slot);
  if (depth === 0) return;
  const packets = t.packetsToServer(slot) + t.packetsToClient(slot);
  const bytes = t.bytesToServer(slot) + t.bytesToClient(slot);
  for (let d = 0; d < depth; d++) {
    const type = tunnelTypeName(t.tunnels.typeAt(slot, d));
    const raw = t.tunnels.idAt(slot, d);
    const id = raw < 0 ? null : raw;
    let seen = false;
    for (let o = 0; o < d; o++) if (t.tunnels.typeAt(slot, o) === t.tunnels.typeAt(slot, d) && t.tunnels.idAt(slot, o) === raw) seen = true;
    if (seen) continue;
    const e = find(list, type, id);
    e.flows++;
    e.packets += packets;
    e.bytes += bytes;
  }
}

/** Adds `from` into `into` (merging the parts of several workers). */
export function mergeEncapsulations(into: EncapsulationCount[], from: readonly EncapsulationCount[]): void {
  for (const o of from) {
    const e = find(into, o.type, o.id);
    e.flows += o.flows;
    e.packets += o.packets;
    e.bytes += o.bytes;
  }
}

/** By type, then id (no id first), so output does not depend on arrival order. */
export function sortEncapsulations(list: EncapsulationCount[]): EncapsulationCount[] {
  return list.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : (a.id ?? -1) - (b.id ?? -1)));
}

/** Every encapsulation of the run: the services' counts summed (each flow is in exactly one service). */
export function encapsulationTotals(services: readonly ServiceTotals[]): EncapsulationCount[] {
  const out: EncapsulationCount[] = [];
  for (const s of services) mergeEncapsulations(out, s.encapsulations ?? []);
  return sortEncapsulations(out);
}
