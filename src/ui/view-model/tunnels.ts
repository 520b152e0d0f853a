/**
 * Encapsulations (VXLAN, Geneve, IP-in-IP, ...) as the dashboard shows them: `type:id` labels
 * ("vxlan:1", "geneve:16", "ip-in-ip" when the header has no id), the run's totals from the
 * snapshot's services (the header line), a service's "via" list, and a flow's stack outer to inner.
 */
import type { EncapsulationCount, SnapshotService, TunnelInfo } from '../../pipeline/results.js';

/** Encapsulation type names the decoder reports (decode/tunnel.ts TUNNEL_TYPE_NAMES; a test keeps them equal). */
export const TUNNEL_TYPES = ['vxlan', 'vxlan-gpe', 'geneve', 'gre', 'erspan', 'ip-in-ip', 'mpls', 'pppoe', 'teredo', 'gtp-u'] as const;

/** One encapsulation as the filter sees it. */
export interface TunnelKey {
  type: string;
  id: number | null;
}

/** "vxlan:1", or the type alone when the header carries no id. */
export function tunnelLabel(t: TunnelKey): string {
  return t.id === null ? t.type : `${t.type}:${t.id}`;
}

/** Most flows first; ties by label, so the order never depends on arrival. */
function byFlows(a: EncapsulationCount, b: EncapsulationCount): number {
  const la = tunnelLabel(a);
  const lb = tunnelLabel(b);
  return b.flows - a.flows || (la < lb ? -1 : la > lb ? 1 : 0);
}

/** Every encapsulation of the snapshot's services summed (each flow is in one service), most flows first. */
export function encapsulationTotals(services: readonly SnapshotService[]): EncapsulationCount[] {
  const out = new Map<string, EncapsulationCount>();
  for (const s of services) {
    for (const e of s.encapsulations ?? []) {
      const k = tunnelLabel(e);
      const t = out.get(k);
      if (t === undefined) out.set(k, { ...e });
      else {
        t.flows += e.flows;
        t.packets += e.packets;
        t.bytes += e.bytes;
      }
    }
  }
  return [...out.values()].sort(byFlows);
}

/** A service's encapsulations as "vxlan:1,geneve:16" (most flows first); '' when none. */
export function viaText(list: readonly EncapsulationCount[]): string {
  return [...list].sort(byFlows).map(tunnelLabel).join(',');
}

/** A flow's stack outer to inner: "vxlan:1" or "gre:7›vxlan:3"; '' outside tunnels. */
export function stackText(tunnel: readonly TunnelInfo[] | undefined): string {
  return (tunnel ?? []).map(tunnelLabel).join('›');
}

/** The stack with each tunnel's endpoints: "vxlan:1 192.168.10.1 → 192.168.10.2 › ...". */
export function stackDetail(tunnel: readonly TunnelInfo[] | undefined): string {
  return (tunnel ?? []).map((t) => `${tunnelLabel(t)}${t.outer === null ? '' : ` ${t.outer.src} → ${t.outer.dst}`}`).join(' › ');
}
