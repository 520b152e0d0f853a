/**
 * The filter bar's language. Space-separated terms, all of which must match:
 *
 *   product:redis          product key contains "redis"
 *   service:web-ui         rule id, component or service key contains "web-ui"
 *   port:6379  port:8000-9000  port:6379,8443
 *   src:10.0.0.5  dst:10.1.  addr:10.0.0.0/8  addr:fd00::/8   (client, server, either; exact,
 *                          textual prefix, or CIDR; aliases client:, server:, ip:)
 *   sni:example.com        TLS server name contains
 *   tunnel:vxlan  tunnel:vxlan:1  tunnel:any   the flow (a service: some of its flows) came through
 *                          that encapsulation type, type and id (VNI, GRE key, ...), or any tunnel
 *   redis                  free text: anything shown on the row contains it
 *   !term  -term           negation
 *   a,b                    any of several values (port:6379,8443  product:zeebe,kgateway)
 *
 * parseFilter never throws: malformed input yields { ok: false, error } with the reason, so the bar
 * can say why while the user types (the last valid filter stays applied).
 */
import { inCidr, parseCidr, parseIp, type Cidr } from './address.js';
import type { PortRanges } from './ports.js';
import { TUNNEL_TYPES, type TunnelKey } from './tunnels.js';

export const FILTER_FIELDS = ['product', 'service', 'port', 'src', 'dst', 'addr', 'sni', 'tunnel'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

const ALIASES: Readonly<Record<string, FilterField>> = { client: 'src', server: 'dst', ip: 'addr' };

type AddressMatcher = { kind: 'cidr'; cidr: Cidr } | { kind: 'exact'; bytes: Uint8Array } | { kind: 'prefix'; text: string };

/** tunnel: a type (null: any tunnel) and an id (null: any id). */
interface TunnelMatcher {
  type: string | null;
  id: number | null;
}

export interface FilterTerm {
  field: FilterField | 'text';
  negate: boolean;
  /** Lower-cased values (any may match). */
  values: string[];
  /** port: the values as ranges. */
  ports: Array<[number, number]>;
  /** src/dst/addr: one matcher per value. */
  addresses: AddressMatcher[];
  /** tunnel: one matcher per value. */
  tunnels: TunnelMatcher[];
}

export interface Filter {
  /** The text it was parsed from (trimmed). */
  text: string;
  terms: FilterTerm[];
}

export type FilterParse = { ok: true; filter: Filter } | { ok: false; error: string };

/** The filter that matches everything. */
export const EMPTY_FILTER: Filter = { text: '', terms: [] };

/** What a row offers to the filter (lists may be empty: a field with no data never matches). */
export interface FilterSubject {
  products: readonly string[];
  services: readonly string[];
  /** Ports of the row: a rule's ranges, or a flow's two ports. */
  ports: PortRanges;
  clients: readonly string[];
  servers: readonly string[];
  sni: readonly string[];
  /** Encapsulations of the row's flows (any level of a flow's stack). */
  tunnels: readonly TunnelKey[];
  /** Everything else the row shows, for free text. */
  text: readonly string[];
}

const MAX_TERMS = 32;

export function parseFilter(input: string): FilterParse {
  const text = input.trim();
  const words = text === '' ? [] : text.split(/\s+/);
  if (words.length > MAX_TERMS) return { ok: false, error: `at most ${MAX_TERMS} terms` };
  const terms: FilterTerm[] = [];
  for (const word of words) {
    const term = parseTerm(word);
    if (typeof term === 'string') return { ok: false, error: term };
    terms.push(term);
  }
  return { ok: true, filter: { text, terms } };
}

function parseTerm(word: string): FilterTerm | string {
  let w = word;
  let negate = false;
  if (w.startsWith('!') || w.startsWith('-')) {
    negate = true;
    w = w.slice(1);
    if (w === '') return `'${word}' needs a term after it`;
  }
  let field: FilterField | 'text' = 'text';
  let value = w;
  const m = /^([a-zA-Z]+):(.*)$/.exec(w);
  if (m !== null) {
    const name = m[1]!.toLowerCase();
    const known = (FILTER_FIELDS as readonly string[]).includes(name) ? (name as FilterField) : ALIASES[name];
    if (known === undefined) {
      return `unknown field '${m[1]}:' (fields: ${FILTER_FIELDS.map((f) => `${f}:`).join(' ')})`;
    }
    field = known;
    value = m[2]!;
    if (value === '') return `'${m[1]}:' needs a value`;
  }
  const values = value.toLowerCase().split(',');
  if (values.some((v) => v === '')) return `'${word}' has an empty value in its list`;
  const term: FilterTerm = { field, negate, values, ports: [], addresses: [], tunnels: [] };
  if (field === 'port') {
    for (const v of values) {
      const pm = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
      const lo = pm ? Number(pm[1]) : NaN;
      const hi = pm && pm[2] !== undefined ? Number(pm[2]) : lo;
      if (!pm || lo > 65_535 || hi > 65_535) return `port: '${v}' is not a port (0-65535, or LO-HI)`;
      if (hi < lo) return `port: range '${v}' ends before it starts`;
      term.ports.push([lo, hi]);
    }
  } else if (field === 'tunnel') {
    for (const v of values) {
      const m = /^([a-z-]+)(?::(\d{1,10}))?$/.exec(v);
      const type = m?.[1];
      if (m === null || type === undefined || (type !== 'any' && !(TUNNEL_TYPES as readonly string[]).includes(type))) {
        return `tunnel: '${v}' is not a tunnel type (${TUNNEL_TYPES.join(', ')}, any), optionally with :id`;
      }
      const id = m[2] === undefined ? null : Number(m[2]);
      if (id !== null && (type === 'any' || id > 0xffff_ffff)) return `tunnel: '${v}' ${type === 'any' ? 'cannot have an id' : 'has an id above 4294967295'}`;
      term.tunnels.push({ type: type === 'any' ? null : type, id });
    }
  } else if (field === 'src' || field === 'dst' || field === 'addr') {
    for (const v of values) {
      if (!/^[0-9a-f.:/%]+$/.test(v)) return `${field}: '${v}' is not an address, a prefix (10.1.) or a CIDR (10.0.0.0/8)`;
      if (v.includes('/')) {
        const cidr = parseCidr(v);
        if (typeof cidr === 'string') return `${field}: ${cidr}`;
        term.addresses.push({ kind: 'cidr', cidr });
      } else {
        const bytes = parseIp(v);
        term.addresses.push(bytes === null ? { kind: 'prefix', text: v } : { kind: 'exact', bytes });
      }
    }
  }
  return term;
}

function addressMatches(m: AddressMatcher, ip: string): boolean {
  if (m.kind === 'prefix') return ip.toLowerCase().startsWith(m.text);
  const bytes = parseIp(ip);
  if (bytes === null) return false;
  if (m.kind === 'cidr') return inCidr(bytes, m.cidr);
  return bytes.length === m.bytes.length && bytes.every((b, i) => b === m.bytes[i]);
}

const contains = (list: readonly string[], v: string): boolean => list.some((x) => x.toLowerCase().includes(v));

function termMatches(t: FilterTerm, s: FilterSubject): boolean {
  switch (t.field) {
    case 'product':
      return t.values.some((v) => contains(s.products, v));
    case 'service':
      return t.values.some((v) => contains(s.services, v));
    case 'sni':
      return t.values.some((v) => contains(s.sni, v));
    case 'port':
      return t.ports.some(([lo, hi]) => s.ports.some(([a, b]) => a <= hi && b >= lo));
    case 'src':
      return t.addresses.some((m) => s.clients.some((ip) => addressMatches(m, ip)));
    case 'dst':
      return t.addresses.some((m) => s.servers.some((ip) => addressMatches(m, ip)));
    case 'addr':
      return t.addresses.some((m) => s.clients.some((ip) => addressMatches(m, ip)) || s.servers.some((ip) => addressMatches(m, ip)));
    case 'tunnel':
      return t.tunnels.some((m) => s.tunnels.some((k) => (m.type === null || k.type === m.type) && (m.id === null || k.id === m.id)));
    case 'text':
      return t.values.some((v) => contains(s.text, v) || contains(s.products, v) || contains(s.services, v) || contains(s.sni, v) || contains(s.clients, v) || contains(s.servers, v));
  }
}

export function matchesFilter(f: Filter, s: FilterSubject): boolean {
  for (const t of f.terms) if (termMatches(t, s) === t.negate) return false;
  return true;
}


/** A port as a range list, for flow subjects. */
export function portsOf(...ports: number[]): PortRanges {
  return ports.map((p) => [p, p] as const);
}
