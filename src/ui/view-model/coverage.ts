/**
 * The coverage view: what the vendor documents that no traffic used yet, and the busiest server
 * ports that no rule documents (how a user finds undocumented services and dead rules).
 *
 * While running it is built from the session's rules (SessionInfo.rules: the selected --products)
 * and the snapshot. A rule counts as seen once a flow was classified to it, or tied for it in an
 * ambiguity; a snapshot's per-service totals do not say which of a rule's ports a flow used, so a
 * rule with several ports or a range counts as seen when any of them had a flow. Unknown ports are
 * the snapshot's bounded list (busiest by bytes) with the protocols recognised on them.
 *
 * At the end of a replay the summary's coverage report replaces it (export/coverage.ts): exact,
 * per documented port or range (seen when a classified flow used a port inside it, whatever rule
 * it was classified to), and every unknown port counted.
 *
 * An unknown port whose payload is a protocol that identifies a product (RESP, Envoy xDS, the Zeebe
 * protocols; not TLS, HTTP, gRPC, DNS) names the selected rules that document that protocol: the
 * dashboard's view of the `undocumented-port` alert, per port.
 */
import type { RuleInfo, SessionInfo } from '../../export/consumer.js';
import type { RunSummary } from '../../export/summary.js';
import { GENERIC_PROTOCOL_TAGS } from '../../util/protocol-tags.js';
import { matchesFilter, portsOf, type Filter } from './filter.js';
import type { Frame } from './frame.js';
import { parsePortList } from './ports.js';
import { candidatesOf, keyKind, ruleIndex } from './rules.js';

export type CoverageReport = NonNullable<RunSummary['coverage']>;

/** A documented rule (or, final, some of its port specs) that no flow used. */
export interface UnseenRuleItem {
  /** Row key: `rule:<id>`. */
  key: string;
  id: string;
  product: string;
  component: string;
  /** Running: every port of the rule ("tcp/80,3000"); final: the specs no flow used. */
  ports: string;
  /** Final only: the rule has other specs that were seen. */
  partial: boolean;
}

/** A protocol seen on an unknown port, and the selected rules that document it. */
export interface DocumentedProtocol {
  protocol: string;
  rules: string[];
}

/** A server port no rule documents. */
export interface UnknownPortItem {
  /** Row key: `port:tcp/7000`. */
  key: string;
  transport: string;
  port: number;
  flows: number;
  /** Running: live flows; null in the final report. */
  liveFlows: number | null;
  /** Null for relayed connections (portsniff proxy sees no packets). */
  packets: number | null;
  bytes: number;
  /** Running: "resp, tls" (recognised protocols); final: "resp 22, unrecognised 4" (flows by payload). */
  payload: string;
  documented: DocumentedProtocol[];
}

export interface CoverageModel {
  /** Built from the summary's report (end of a replay) rather than from the snapshot. */
  final: boolean;
  /** Rules considered (the selected --products, or all). */
  rules: number;
  /** Running: rules with a flow so far. */
  seenRules: number;
  /** Final: documented port specs and how many saw no flow. */
  portSpecs: number | null;
  portSpecsUnseen: number | null;
  /** Documented, no flow yet (final: rules with specs no flow used), by product then id. */
  unseen: UnseenRuleItem[];
  /** Unknown server ports, busiest first. */
  unknown: UnknownPortItem[];
  /** Final: distinct unknown server ports; running: null (the snapshot lists the busiest only). */
  unknownPortCount: number | null;
  /** Rules off (--no-rules): nothing is documented, nothing is unknown. */
  rulesOff: boolean;
  order: string[];
  shown: number;
  total: number;
}

/** Distinctive protocol tag -> ids of the session's rules that document it. */
function documentedProtocols(rules: readonly RuleInfo[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rules) {
    for (const tag of r.protocols) {
      if (GENERIC_PROTOCOL_TAGS.has(tag)) continue;
      const list = out.get(tag);
      if (list === undefined) out.set(tag, [r.id]);
      else if (!list.includes(r.id)) list.push(r.id);
    }
  }
  return out;
}

function documentedFor(protocols: readonly string[], documented: ReadonlyMap<string, string[]>): DocumentedProtocol[] {
  const out: DocumentedProtocol[] = [];
  for (const p of protocols) {
    const rules = documented.get(p);
    if (rules !== undefined) out.push({ protocol: p, rules: [...rules].sort() });
  }
  return out;
}

function byProductThenId(a: UnseenRuleItem, b: UnseenRuleItem): number {
  return a.product < b.product ? -1 : a.product > b.product ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Rule ids with at least one flow in the snapshot: their own service, or a candidate of a tie. */
export function seenRuleIds(frame: Frame | null): Set<string> {
  const seen = new Set<string>();
  for (const s of frame?.update.snapshot.services ?? []) {
    if (s.flows === 0) continue;
    const kind = keyKind(s.key);
    if (kind === 'rule') seen.add(s.key);
    else if (kind === 'ambiguous') for (const c of s.candidates.length > 1 ? s.candidates : candidatesOf(s.key)) seen.add(c);
  }
  return seen;
}

export function buildCoverage(info: SessionInfo | null, frame: Frame | null, summary: RunSummary | null, filter: Filter): CoverageModel {
  const rules = info?.rules ?? [];
  const idx = ruleIndex(info);
  const documented = documentedProtocols(rules);
  const report = summary?.coverage ?? null;
  const rulesOff = info !== null && rules.length === 0;
  let unseen: UnseenRuleItem[];
  let unknown: UnknownPortItem[];
  let seenRules = 0;
  if (report !== null) {
    unseen = report.unseen.map((u) => {
      const r = idx.byId.get(u.rule);
      return {
        key: `rule:${u.rule}`,
        id: u.rule,
        product: u.product,
        component: r?.component ?? '',
        ports: u.ports === '' ? u.transport : `${u.transport}/${u.ports}`,
        partial: r !== undefined && r.ports !== '' && u.ports.split(',').length < r.ports.split(',').length,
      };
    });
    unknown = report.unknownPorts.map((p) => ({
      key: `port:${p.transport}/${p.port}`,
      transport: p.transport,
      port: p.port,
      flows: p.flows,
      liveFlows: null,
      packets: summary?.source.kind === 'proxy' ? null : p.packets,
      bytes: p.bytes,
      payload: Object.entries(p.payload)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      documented: documentedFor(Object.keys(p.payload), documented),
    }));
  } else {
    const seen = seenRuleIds(frame);
    unseen = [];
    for (const r of rules) {
      if (seen.has(r.id)) {
        seenRules++;
        continue;
      }
      unseen.push({ key: `rule:${r.id}`, id: r.id, product: r.product, component: r.component, ports: r.ports === '' ? r.transport : `${r.transport}/${r.ports}`, partial: false });
    }
    unknown = (frame?.update.snapshot.detail?.unknownPorts ?? []).map((p) => ({
      key: `port:${p.transport}/${p.port}`,
      transport: p.transport,
      port: p.port,
      flows: p.flows,
      liveFlows: p.liveFlows,
      packets: p.packets,
      bytes: p.bytes,
      payload: p.protocols.join(', '),
      documented: documentedFor(p.protocols, documented),
    }));
  }
  unseen.sort(byProductThenId);
  const total = unseen.length + unknown.length;
  if (filter.terms.length > 0) {
    unseen = unseen.filter((u) =>
      matchesFilter(filter, {
        products: [u.product],
        services: [u.id, u.component],
        ports: parsePortList(u.ports.slice(u.ports.indexOf('/') + 1)),
        clients: [],
        servers: [],
        sni: [],
        tunnels: [],
        text: [u.ports, idx.byId.get(u.id)?.purpose ?? ''],
      }),
    );
    unknown = unknown.filter((p) =>
      matchesFilter(filter, {
        products: ['unknown'],
        services: ['unknown', ...p.documented.flatMap((d) => d.rules)],
        ports: portsOf(p.port),
        clients: [],
        servers: [],
        sni: [],
        tunnels: [],
        text: [`${p.transport}/${p.port}`, p.payload],
      }),
    );
  }
  return {
    final: report !== null,
    rules: report !== null ? report.documented.rules : rules.length,
    seenRules,
    portSpecs: report?.documented.portSpecs ?? null,
    portSpecsUnseen: report?.documented.portSpecsUnseen ?? null,
    unseen,
    unknown,
    unknownPortCount: report?.unknownPortCount ?? null,
    rulesOff,
    order: [...unknown.map((p) => p.key), ...unseen.map((u) => u.key)],
    shown: unseen.length + unknown.length,
    total,
  };
}
