/**
 * The coverage report of a run (the `coverage` of the --json summary and its text section): which
 * documented ports of the selected products no flow used (dead rules, or services that are not
 * where the documents say), and the busiest server ports no rule documents, with what their payload
 * looked like (how a user finds undocumented services). Built from the engine's port accounting
 * (pipeline/port-stats.ts), which is exact and the same for any number of workers.
 */
import { busiestUnknownPorts, unknownPortCount, type PortStatsData, type PortTransport, type UnknownPortStats } from '../pipeline/port-stats.js';
import type { RuleInfo } from './consumer.js';

/** Unknown server ports listed in the JSON summary (the text summary lists fewer). */
export const COVERAGE_UNKNOWN_PORTS = 20;
export const TEXT_UNKNOWN_PORTS = 10;

export interface UnseenRulePorts {
  rule: string;
  product: string;
  transport: string;
  /** The rule's port specs no flow used, as written ("26500", "3333-3341"); "" for icmp rules. */
  ports: string;
}

export interface CoverageReport {
  /** Rules (of --products, or all) considered, and how many of their port specs no flow used. */
  documented: { rules: number; portSpecs: number; portSpecsUnseen: number };
  /** Rules with at least one port spec no flow used, by rule id. */
  unseen: UnseenRulePorts[];
  /** Distinct server ports with flows no rule documents. */
  unknownPortCount: number;
  /** The busiest of them by bytes (then flows, transport, port). */
  unknownPorts: UnknownPortStats[];
}

/** "8443", "10000-19999", "9443,8080" -> [lo, hi] pairs. */
function specsOf(ports: string): Array<[number, number]> {
  if (ports.trim() === '') return [];
  return ports.split(',').map((p) => {
    const [lo, hi] = p.trim().split('-').map(Number);
    return [lo!, hi ?? lo!];
  });
}

function anySeen(sorted: readonly number[], lo: number, hi: number): boolean {
  // First seen port >= lo (binary search), then whether it is <= hi.
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (sorted[m]! < lo) a = m + 1;
    else b = m;
  }
  return a < sorted.length && sorted[a]! <= hi;
}

export function buildCoverage(ports: PortStatsData, rules: readonly RuleInfo[], products: readonly string[] | null, top = COVERAGE_UNKNOWN_PORTS): CoverageReport {
  const selected = rules.filter((r) => products === null || products.includes(r.product));
  const unseen: UnseenRulePorts[] = [];
  let portSpecs = 0;
  let portSpecsUnseen = 0;
  for (const r of [...selected].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (r.transport === 'icmp') {
      portSpecs++;
      if (!ports.seenIcmpRules.includes(r.id)) {
        portSpecsUnseen++;
        unseen.push({ rule: r.id, product: r.product, transport: r.transport, ports: '' });
      }
      continue;
    }
    const seen = ports.seenPorts[r.transport as PortTransport] ?? [];
    const missing: string[] = [];
    for (const [lo, hi] of specsOf(r.ports)) {
      portSpecs++;
      if (!anySeen(seen, lo, hi)) missing.push(lo === hi ? String(lo) : `${lo}-${hi}`);
    }
    portSpecsUnseen += missing.length;
    if (missing.length > 0) unseen.push({ rule: r.id, product: r.product, transport: r.transport, ports: missing.join(',') });
  }
  return {
    documented: { rules: selected.length, portSpecs, portSpecsUnseen },
    unseen,
    unknownPortCount: unknownPortCount(ports),
    // By bytes, then flows, transport and port; objects only for the listed ports.
    unknownPorts: busiestUnknownPorts(ports, top),
  };
}

/** "resp 11, unrecognised 2": what the payload of an unknown port's flows was. */
export function describePayload(payload: Record<string, number>): string {
  const parts = Object.entries(payload).map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}
