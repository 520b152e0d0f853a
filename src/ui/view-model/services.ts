/**
 * The services view: snapshot services grouped product -> component, with rates from the frame,
 * sorted and filtered. Ambiguous services form their own group (each with its candidates and how to
 * resolve them), and unknown traffic is always a visible group with its busiest ports.
 */
import type { SessionInfo } from '../../export/consumer.js';
import type { EncapsulationCount, FlowRow, SnapshotService, UnknownPortRow, Verdict } from '../../pipeline/results.js';
import { matchesFilter, type Filter, type FilterSubject } from './filter.js';
import type { Frame } from './frame.js';
import type { PortRanges } from './ports.js';
import { ambiguityHint, ambiguousPort, candidatesOf, keyKind, productOfId, ruleIndex, rulePort, type RuleIndex, type ServiceKeyKind } from './rules.js';
import { comparator, type SortOrder } from './sort.js';
import { viaText } from './tunnels.js';

export interface ServiceRow {
  /** The service key (rule id, `ambiguous:a|b`, `unknown`, `unclassified`). */
  key: string;
  kind: ServiceKeyKind;
  /** The group it is listed under (product key, or `ambiguous` / `unknown` / `unclassified`). */
  group: string;
  /** Component, or a description for the special rows. */
  name: string;
  ruleId: string | null;
  /** "tcp/8443", "tcp/10000-19999", "icmp", or ''. */
  port: string;
  liveFlows: number;
  flows: number;
  packets: number;
  bytes: number;
  bytesPerSec: number;
  series: readonly number[];
  verdicts: Record<Verdict, number>;
  violations: number;
  /** Ambiguous rows: the candidate rule ids and how to resolve them. */
  candidates: string[];
  hint: string;
  /** The unknown row: its busiest ports (filtered like the rows). */
  unknownPorts: UnknownPortRow[];
  /** Encapsulations its flows came through (empty: none was tunnelled). */
  encapsulations: readonly EncapsulationCount[];
  /** "vxlan:1,geneve:16", most flows first; '' when no flow was tunnelled. */
  via: string;
}

export type GroupKind = 'product' | 'ambiguous' | 'unknown' | 'unclassified';

export interface ServiceGroup {
  id: string;
  kind: GroupKind;
  title: string;
  rows: ServiceRow[];
  liveFlows: number;
  flows: number;
  bytes: number;
  bytesPerSec: number;
}

export interface ServicesModel {
  groups: ServiceGroup[];
  /** Row keys in display order (what arrows move over). */
  order: string[];
  /** Rows shown / rows before filtering. */
  shown: number;
  total: number;
  /** Some service had tunnelled flows (the table gets a VIA column). */
  tunnelled: boolean;
  /** Relayed connections (portsniff proxy): no packet counts exist, the table has no PKTS column. */
  relayed: boolean;
}

const NO_SERIES: readonly number[] = [];

function productGroupOf(s: SnapshotService, kind: ServiceKeyKind, idx: RuleIndex): string {
  if (kind !== 'rule') return kind;
  return s.product ?? idx.byId.get(s.key)?.product ?? productOfId(s.key, idx);
}

export function serviceRow(s: SnapshotService, frame: Frame | null, idx: RuleIndex, unknownPorts: readonly UnknownPortRow[]): ServiceRow {
  const kind = keyKind(s.key);
  const rate = frame?.rates.get(s.key);
  const candidates = kind === 'ambiguous' ? (s.candidates.length > 1 ? s.candidates : candidatesOf(s.key)) : [];
  let name: string;
  let port = '';
  if (kind === 'rule') {
    name = s.component ?? idx.byId.get(s.key)?.component ?? s.key;
    port = rulePort(s.key, idx);
  } else if (kind === 'ambiguous') {
    port = ambiguousPort(candidates, idx).text;
    name = `${candidates.length} rules tie`;
  } else if (kind === 'unknown') {
    name = 'unknown: no rule';
  } else {
    name = 'no rules loaded';
  }
  return {
    key: s.key,
    kind,
    group: productGroupOf(s, kind, idx),
    name,
    ruleId: kind === 'rule' ? s.key : null,
    port,
    liveFlows: s.liveFlows,
    flows: s.flows,
    packets: s.packets.toServer + s.packets.toClient,
    bytes: s.bytes.toServer + s.bytes.toClient,
    bytesPerSec: rate?.bytesPerSec ?? 0,
    series: rate?.series ?? NO_SERIES,
    verdicts: s.verdicts,
    violations: s.exposure.violation,
    candidates,
    hint: kind === 'ambiguous' ? ambiguityHint(candidates, idx) : '',
    unknownPorts: kind === 'unknown' ? [...unknownPorts] : [],
    encapsulations: s.encapsulations ?? [],
    via: viaText(s.encapsulations ?? []),
  };
}

/** What a service row offers to the filter: its own fields plus the flows the snapshot lists for it. */
export function serviceSubject(row: ServiceRow, flows: readonly FlowRow[], idx: RuleIndex): FilterSubject {
  const own = flows.filter((f) => f.serviceKey === row.key);
  let ports: PortRanges = [];
  if (row.kind === 'rule') ports = idx.ports.get(row.key) ?? [];
  else if (row.kind === 'ambiguous') ports = ambiguousPort(row.candidates, idx).ranges;
  else ports = row.unknownPorts.map((p) => [p.port, p.port] as const);
  const products = row.kind === 'rule' ? [row.group] : row.kind === 'ambiguous' ? ['ambiguous', ...row.candidates.map((c) => productOfId(c, idx))] : [row.kind];
  return {
    products,
    services: [row.key, row.name, ...row.candidates],
    ports,
    clients: own.map((f) => f.client.ip),
    servers: own.map((f) => f.server.ip),
    sni: own.map((f) => f.evidence['sni'] ?? '').filter((x) => x !== ''),
    tunnels: row.encapsulations,
    text: [row.group, row.name, row.port, row.hint, row.via],
  };
}

const GROUP_TITLES: Readonly<Record<Exclude<GroupKind, 'product'>, string>> = {
  ambiguous: 'ambiguous (several rules tie)',
  unknown: 'unknown (no rule for the port)',
  unclassified: 'unclassified (rules off)',
};

export function buildServices(info: SessionInfo | null, frame: Frame | null, sort: SortOrder, filter: Filter): ServicesModel {
  const idx = ruleIndex(info);
  const snap = frame?.update.snapshot;
  const services = snap?.services ?? [];
  const flows = snap?.detail?.flows ?? [];
  const unknownPorts = snap?.detail?.unknownPorts ?? [];
  const byGroup = new Map<string, ServiceRow[]>();
  let shown = 0;
  let tunnelled = false;
  for (const s of services) {
    const row = serviceRow(s, frame, idx, unknownPorts);
    if (filter.terms.length > 0) {
      if (!matchesFilter(filter, serviceSubject(row, flows, idx))) continue;
      // A port filter narrows the unknown row's port list too.
      if (row.kind === 'unknown') {
        const portTerms = filter.terms.filter((t) => t.field === 'port');
        row.unknownPorts = row.unknownPorts.filter((p) =>
          portTerms.every((t) => t.ports.some(([lo, hi]) => p.port >= lo && p.port <= hi) !== t.negate),
        );
      }
    }
    shown++;
    if (row.via !== '') tunnelled = true;
    const list = byGroup.get(row.group);
    if (list === undefined) byGroup.set(row.group, [row]);
    else list.push(row);
  }
  const cmp = comparator<ServiceRow>(sort);
  const groups: ServiceGroup[] = [];
  for (const [id, rows] of byGroup) {
    rows.sort(cmp);
    const kind: GroupKind = id === 'ambiguous' || id === 'unknown' || id === 'unclassified' ? id : 'product';
    groups.push({
      id,
      kind,
      title: kind === 'product' ? id : GROUP_TITLES[kind],
      rows,
      liveFlows: sum(rows, (r) => r.liveFlows),
      flows: sum(rows, (r) => r.flows),
      bytes: sum(rows, (r) => r.bytes),
      bytesPerSec: sum(rows, (r) => r.bytesPerSec),
    });
  }
  const pinned: GroupKind[] = ['ambiguous', 'unknown', 'unclassified'];
  const groupCmp = comparator<{ key: string; name: string; bytes: number; bytesPerSec: number; flows: number }>(sort);
  groups.sort((a, b) => {
    const pa = pinned.indexOf(a.kind);
    const pb = pinned.indexOf(b.kind);
    if (pa !== pb) return pa - pb;
    return groupCmp({ ...a, key: a.id, name: a.title }, { ...b, key: b.id, name: b.title });
  });
  return { groups, order: groups.flatMap((g) => g.rows.map((r) => r.key)), shown, total: services.length, tunnelled, relayed: info?.kind === 'proxy' };
}

function sum<T>(list: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of list) s += f(x);
  return s;
}

/** Share of bytes that matched no rule, and the busiest unknown ports, for the header. */
export function unknownShare(frame: Frame | null): { bytes: number; fraction: number; ports: string[] } {
  const snap = frame?.update.snapshot;
  if (snap === undefined) return { bytes: 0, fraction: 0, ports: [] };
  let total = 0;
  let unknown = 0;
  for (const s of snap.services) {
    const b = s.bytes.toServer + s.bytes.toClient;
    total += b;
    if (s.key === 'unknown') unknown += b;
  }
  const ports = (snap.detail?.unknownPorts ?? []).slice(0, 3).map((p) => `${p.transport}/${p.port}`);
  return { bytes: unknown, fraction: total > 0 ? unknown / total : 0, ports };
}
