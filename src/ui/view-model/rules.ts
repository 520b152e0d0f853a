/**
 * What the dashboard knows about rules: SessionInfo.rules indexed by id, service-key parsing
 * (`unknown`, `unclassified`, `ambiguous:a|b`, or a rule id) and the hint that tells an operator how
 * to resolve an ambiguity.
 */
import type { RuleInfo, SessionInfo } from '../../export/consumer.js';
import { formatPortRanges, intersectRanges, parsePortList, type PortRanges } from './ports.js';

export interface RuleIndex {
  byId: ReadonlyMap<string, RuleInfo>;
  ports: ReadonlyMap<string, PortRanges>;
}

const indexes = new WeakMap<readonly RuleInfo[], RuleIndex>();

/** The rules of a session by id (cached per rules array). */
export function ruleIndex(info: SessionInfo | null): RuleIndex {
  const rules = info?.rules ?? [];
  let idx = indexes.get(rules);
  if (idx === undefined) {
    const byId = new Map<string, RuleInfo>();
    const ports = new Map<string, PortRanges>();
    for (const r of rules) {
      byId.set(r.id, r);
      ports.set(r.id, parsePortList(r.ports));
    }
    idx = { byId, ports };
    indexes.set(rules, idx);
  }
  return idx;
}

export type ServiceKeyKind = 'rule' | 'ambiguous' | 'unknown' | 'unclassified';

export function keyKind(key: string): ServiceKeyKind {
  if (key === 'unknown') return 'unknown';
  if (key === 'unclassified') return 'unclassified';
  if (key.startsWith('ambiguous:')) return 'ambiguous';
  return 'rule';
}

/** The candidate rule ids of `ambiguous:a|b`, or [] for other keys. */
export function candidatesOf(key: string): string[] {
  return key.startsWith('ambiguous:') ? key.slice('ambiguous:'.length).split('|').filter((x) => x !== '') : [];
}

/** The product part of a rule id ("redis-enterprise.web-ui" -> "redis-enterprise"). */
export function productOfId(id: string, idx: RuleIndex): string {
  return idx.byId.get(id)?.product ?? (id.includes('.') ? id.slice(0, id.indexOf('.')) : id);
}

/** "tcp/8443", "tcp/10000-19999", "icmp", or '' when the rule is not known. */
export function rulePort(id: string, idx: RuleIndex): string {
  const r = idx.byId.get(id);
  if (r === undefined) return '';
  return r.ports === '' ? r.transport : `${r.transport}/${r.ports}`;
}

/**
 * The port an ambiguity is about: the intersection of its candidates' ports ("tcp/6379"); the
 * union's first candidate's ports when they do not intersect (an originator-port match).
 */
export function ambiguousPort(candidates: readonly string[], idx: RuleIndex): { text: string; ranges: PortRanges } {
  const known = candidates.filter((c) => idx.byId.has(c));
  if (known.length === 0) return { text: '', ranges: [] };
  const transport = idx.byId.get(known[0]!)!.transport;
  let ranges: PortRanges = idx.ports.get(known[0]!)!;
  for (const c of known.slice(1)) ranges = intersectRanges(ranges, idx.ports.get(c)!);
  if (ranges.length === 0) ranges = idx.ports.get(known[0]!)!;
  const list = formatPortRanges(ranges);
  return { text: list === '' ? transport : `${transport}/${list}`, ranges };
}

/**
 * How the tie could be broken, mirroring the classifier: payload evidence picks the candidates whose
 * documented protocols include what was seen, so a tag only one candidate lists resolves to it;
 * otherwise `--products` can drop the other products' rules; candidates of one product can only be
 * told apart by a --rules override.
 */
export function ambiguityHint(candidates: readonly string[], idx: RuleIndex): string {
  if (candidates.length < 2) return '';
  const resolvedByEvidence = new Map<string, string>();
  for (const c of candidates) {
    const tags = idx.byId.get(c)?.protocols ?? [];
    for (const tag of tags) {
      const holders = candidates.filter((o) => (idx.byId.get(o)?.protocols ?? []).includes(tag));
      if (holders.length === 1) {
        resolvedByEvidence.set(c, tag);
        break;
      }
    }
  }
  const parts: string[] = [];
  if (resolvedByEvidence.size > 0) {
    parts.push(`payload evidence: ${[...resolvedByEvidence].map(([id, tag]) => `${tag} -> ${id}`).join(', ')}`);
  }
  const rest = candidates.filter((c) => !resolvedByEvidence.has(c));
  if (rest.length >= 2 || (rest.length === 1 && resolvedByEvidence.size === 0)) {
    const products = [...new Set(rest.map((c) => productOfId(c, idx)))];
    if (products.length >= 2) {
      const same = rest.every((c) => sameProtocols(c, rest[0]!, idx));
      const lead = resolvedByEvidence.size > 0 ? 'otherwise' : same ? `same protocols (${protocolsText(rest[0]!, idx)})` : 'no protocol tells them apart';
      parts.push(`${lead}: --products ${products.join(' or ')}`);
    }
    const byProduct = new Map<string, string[]>();
    for (const c of rest) byProduct.set(productOfId(c, idx), [...(byProduct.get(productOfId(c, idx)) ?? []), c]);
    for (const [product, ids] of byProduct) {
      if (ids.length >= 2) parts.push(`${ids.join(', ')} are ${ids.length === 2 ? 'both' : 'all'} ${product}: only a --rules override separates them`);
    }
  }
  return parts.join('; ');
}

function sameProtocols(a: string, b: string, idx: RuleIndex): boolean {
  const pa = [...(idx.byId.get(a)?.protocols ?? [])].sort().join(',');
  const pb = [...(idx.byId.get(b)?.protocols ?? [])].sort().join(',');
  return pa === pb;
}

function protocolsText(id: string, idx: RuleIndex): string {
  const p = idx.byId.get(id)?.protocols ?? [];
  return p.length === 0 ? 'none documented' : p.join(',');
}
