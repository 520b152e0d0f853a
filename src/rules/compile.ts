/**
 * RuleSet -> PortIndex: per transport a 65,536-slot Uint16Array mapping port -> candidate group id,
 * and an interned table of groups. `lookup()` is one typed-array read (no allocation), so it can
 * run per packet; `group()` returns precomputed, frozen data.
 *
 * Specificity (rules/README.md "Precedence"): among the rules covering a port, the narrowest port
 * spec wins: an exact port (width 1) beats a narrow range, which beats a wide range; width is
 * `hi - lo + 1`. Rules tied at the best width are all returned (`ambiguous`); ties are never broken.
 * Rules are ordered by id before anything else, so the result does not depend on file or rule order.
 */
import { UsageError, ErrorCode, PortsniffError } from '../errors.js';
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import { compareIds } from './types.js';
import type { PortSpec, Rule, RuleSet, Transport } from './types.js';

/** How a rule matched: an exact port, a range, or a portless transport (ICMP). */
export type MatchKind = 'exact' | 'range' | 'transport';

/** One rule matching a port, with its specificity. */
export interface Candidate {
  readonly rule: Rule;
  /** The rule's port spec that covers the port; null for portless transports (ICMP). */
  readonly spec: PortSpec | null;
  readonly kind: MatchKind;
  /** Ports in the matching spec (1 for an exact port); 0 for portless transports. Smaller wins. */
  readonly width: number;
  /** 0 for the most specific tier of this group, 1 for the next, and so on. */
  readonly tier: number;
}

/** Every rule matching a port, precomputed and shared by all ports with the same matches. */
export interface PortGroup {
  /** 0 is the empty group (no rule matches). */
  readonly id: number;
  /** Rules of the most specific tier, sorted by id. More than one means ambiguous. */
  readonly best: readonly Rule[];
  /** Candidates of the most specific tier, sorted by id. */
  readonly bestCandidates: readonly Candidate[];
  /** Every matching rule, most specific first, then by id. */
  readonly all: readonly Candidate[];
  /** True when several rules tie at the best tier. */
  readonly ambiguous: boolean;
}

export interface CompileOptions {
  /** Keep only rules whose `product` is listed; unknown keys are a usage error. */
  readonly products?: readonly string[] | undefined;
}

const PORTED: readonly Exclude<Transport, 'icmp'>[] = ['tcp', 'udp', 'sctp'];
const MAX_GROUPS = 0xffff;

const EMPTY_GROUP: PortGroup = Object.freeze({ id: 0, best: Object.freeze([]), bestCandidates: Object.freeze([]), all: Object.freeze([]), ambiguous: false });

export class PortIndex {
  /** The rules in the index (after the product filter), sorted by id. */
  readonly rules: readonly Rule[];
  /** Every product key in the rule set the index was compiled from (before filtering), sorted. */
  readonly products: readonly string[];
  /** The product filter applied, or null for all products. */
  readonly productFilter: readonly string[] | null;
  private readonly tcp: Uint16Array;
  private readonly udp: Uint16Array;
  private readonly sctp: Uint16Array;
  private readonly icmpGroup: number;
  private readonly groups: readonly PortGroup[];

  /** Use compileRules(). */
  constructor(parts: { rules: readonly Rule[]; products: readonly string[]; productFilter: readonly string[] | null; tcp: Uint16Array; udp: Uint16Array; sctp: Uint16Array; icmpGroup: number; groups: readonly PortGroup[] }) {
    this.rules = parts.rules;
    this.products = parts.products;
    this.productFilter = parts.productFilter;
    this.tcp = parts.tcp;
    this.udp = parts.udp;
    this.sctp = parts.sctp;
    this.icmpGroup = parts.icmpGroup;
    this.groups = parts.groups;
  }

  /**
   * Group id for a port, 0 when no rule matches. `transport` is the IP protocol number (6 TCP,
   * 17 UDP, 132 SCTP; 1 ICMP and 58 ICMPv6 ignore the port). Allocation-free; safe per packet.
   */
  lookup(transport: number, port: number): number {
    let slots: Uint16Array;
    if (transport === IpProto.TCP) slots = this.tcp;
    else if (transport === IpProto.UDP) slots = this.udp;
    else if (transport === IpProto.SCTP) slots = this.sctp;
    else if (isIcmpProto(transport)) return this.icmpGroup;
    else return 0;
    return slots[port] ?? 0; // out of range or fractional ports read undefined
  }

  /** The group for an id from lookup(); id 0 (or an unknown id) is the empty group. */
  group(id: number): PortGroup {
    return this.groups[id] ?? EMPTY_GROUP;
  }

  /** Number of groups including the empty group 0. */
  get groupCount(): number {
    return this.groups.length;
  }

  /** 1 at every port some rule covers for this transport, else 0 (a fresh copy). */
  documentedPortMask(transport: Exclude<Transport, 'icmp'>): Uint8Array {
    const slots = transport === 'tcp' ? this.tcp : transport === 'udp' ? this.udp : this.sctp;
    const mask = new Uint8Array(65536);
    for (let p = 0; p < 65536; p++) mask[p] = slots[p] === 0 ? 0 : 1;
    return mask;
  }
}

/**
 * The rules of `set` whose product is in `products` (all when undefined or empty), sorted by id.
 * Throws UsageError naming any product key the set does not have.
 */
export function selectRules(set: RuleSet, products?: readonly string[]): { rules: Rule[]; products: string[]; filter: string[] | null } {
  const all = [...new Set(set.rules.map((r) => r.product))].sort(compareIds);
  let filter: string[] | null = null;
  if (products !== undefined && products.length > 0) {
    const unknown = products.filter((p) => !all.includes(p));
    if (unknown.length > 0) {
      throw new UsageError(`unknown product${unknown.length === 1 ? '' : 's'} ${unknown.map((p) => `'${p}'`).join(', ')} in --products (known: ${all.join(', ')})`);
    }
    filter = [...new Set(products)].sort(compareIds);
  }
  const rules = set.rules.filter((r) => filter === null || filter.includes(r.product)).sort((a, b) => compareIds(a.id, b.id));
  return { rules, products: all, filter };
}

/** Build the O(1) port index. Throws UsageError for an unknown product key in `opts.products`. */
export function compileRules(set: RuleSet, opts: CompileOptions = {}): PortIndex {
  const { rules, products, filter } = selectRules(set, opts.products);

  const groups: PortGroup[] = [EMPTY_GROUP];
  const byKey = new Map<string, number>();
  const intern = (cands: { rule: number; spec: PortSpec | null }[]): number => {
    if (cands.length === 0) return 0;
    const width = (s: PortSpec | null): number => (s === null ? 0 : s.hi - s.lo + 1);
    cands.sort((a, b) => width(a.spec) - width(b.spec) || a.rule - b.rule);
    const key = cands.map((c) => (c.spec === null ? `${c.rule}` : `${c.rule}:${c.spec.lo}-${c.spec.hi}`)).join(',');
    const found = byKey.get(key);
    if (found !== undefined) return found;
    if (groups.length > MAX_GROUPS) {
      throw new PortsniffError(ErrorCode.RuleFile, `the rules produce more than ${MAX_GROUPS} distinct port groups; split or simplify the port ranges`);
    }
    const all: Candidate[] = [];
    let tier = 0;
    let prevWidth = -1;
    for (const c of cands) {
      const w = width(c.spec);
      if (prevWidth !== -1 && w !== prevWidth) tier++;
      prevWidth = w;
      all.push(Object.freeze({ rule: rules[c.rule]!, spec: c.spec, kind: c.spec === null ? 'transport' : w === 1 ? 'exact' : 'range', width: w, tier }));
    }
    const bestCandidates = all.filter((c) => c.tier === 0);
    const id = groups.length;
    groups.push(Object.freeze({
      id,
      best: Object.freeze(bestCandidates.map((c) => c.rule)),
      bestCandidates: Object.freeze(bestCandidates),
      all: Object.freeze(all),
      ambiguous: bestCandidates.length > 1,
    }));
    byKey.set(key, id);
    return id;
  };

  const tables: Record<Exclude<Transport, 'icmp'>, Uint16Array> = { tcp: new Uint16Array(65536), udp: new Uint16Array(65536), sctp: new Uint16Array(65536) };
  for (const transport of PORTED) {
    const specs: { rule: number; spec: PortSpec }[] = [];
    rules.forEach((r, i) => {
      if (r.transport === transport) for (const spec of r.ports) specs.push({ rule: i, spec });
    });
    if (specs.length === 0) continue;
    // Sweep: the candidate set is constant between consecutive boundaries (every lo and hi + 1).
    const bounds = [...new Set(specs.flatMap((s) => [s.spec.lo, s.spec.hi + 1]))].sort((a, b) => a - b);
    const slots = tables[transport];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const start = bounds[i]!;
      const end = bounds[i + 1]!; // exclusive
      const cands = specs.filter((s) => s.spec.lo <= start && s.spec.hi >= end - 1);
      const id = intern(cands.map((s) => ({ rule: s.rule, spec: s.spec })));
      if (id !== 0) slots.fill(id, start, end);
    }
  }
  const icmpCands: { rule: number; spec: null }[] = [];
  rules.forEach((r, i) => {
    if (r.transport === 'icmp') icmpCands.push({ rule: i, spec: null });
  });
  const icmpGroup = intern(icmpCands);

  return new PortIndex({ rules, products, productFilter: filter, tcp: tables.tcp, udp: tables.udp, sctp: tables.sctp, icmpGroup, groups });
}
