/**
 * The port map as data: what rules/*.yaml parse into (see rules/README.md for the YAML format and
 * the precise meaning of every field). Everything here is plain immutable data; parse-file.ts
 * builds it, compile.ts turns it into the O(1) port index.
 */
import type { ProtocolTag } from './protocol-tags.js';

/** Transports a rule can name. `icmp` covers ICMP (IP protocol 1) and ICMPv6 (58) and has no ports. */
export const TRANSPORTS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * Who is expected to open connections to the port (rules/README.md defines each precisely).
 * - public: anyone, including the internet; the document says to allow public access.
 * - external: client applications or monitoring systems outside the product's own nodes/pods
 *   (not necessarily the internet).
 * - internal: the product's own components or nodes, on a private network.
 * - active-active: peer clusters of a Redis Enterprise Active-Active deployment.
 * - monitoring-only: metrics/health endpoints that only monitoring systems and probes should reach.
 * - localhost: bound to the loopback address; never seen between hosts.
 */
export const EXPOSURES = ['public', 'external', 'internal', 'active-active', 'monitoring-only', 'localhost'] as const;
export type Exposure = (typeof EXPOSURES)[number];

/** Whether the source document promises TLS on the port. */
export const TLS_PROMISES = ['required', 'optional', 'none', 'unknown'] as const;
export type TlsPromise = (typeof TLS_PROMISES)[number];

/** One port (`lo === hi`) or an inclusive range. Always 1 <= lo <= hi <= 65535. */
export interface PortSpec {
  readonly lo: number;
  readonly hi: number;
}

/** Where a rule (or erratum) sits in its YAML file; 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** The row of the source document a rule came from. */
export interface Cite {
  /** 1-based line number in the source document; null when the source has no line numbers (user rules). */
  readonly line: number | null;
  /** The row, quoted (shipped rules quote verbatim; tests check it against the seed). */
  readonly text: string;
}

/** The `source:` block of a rule file: which document the file transcribes. */
export interface RuleSource {
  /** File name of the source document (shipped: a file in shared/seeds). */
  readonly doc: string;
  /** Product as the document names it (free text, e.g. "Redis Enterprise Software"). */
  readonly product: string;
  /** Title of the document. */
  readonly title: string;
}

export interface Rule {
  /** `<product>.<slug>`; unique across the loaded set (unless overridden explicitly). */
  readonly id: string;
  /** Short product key (`--products` filters on it), e.g. `redis-enterprise`. */
  readonly product: string;
  /** Service, pod or component name as the document says it. */
  readonly component: string;
  readonly transport: Transport;
  /** Sorted by `lo`, non-overlapping; empty exactly when transport is `icmp`. */
  readonly ports: readonly PortSpec[];
  /** What the document says the port is for. */
  readonly purpose: string;
  /** Expected connection sources; never empty. */
  readonly exposure: readonly Exposure[];
  /** True when the document does not state the exposure and the rule author inferred it. */
  readonly exposureInferred: boolean;
  /** Configuration keys the document gives (env vars, Helm values, YAML keys); may be empty. */
  readonly configKeys: readonly string[];
  /** Protocol tags the document names or plainly implies; empty when it names none. */
  readonly protocols: readonly ProtocolTag[];
  /** Whether the document promises TLS on this port. */
  readonly tls: TlsPromise;
  /** At least one; the first is the primary row. */
  readonly cites: readonly Cite[];
  /** Free-text remarks (service-port mapping, caveats); null when none. */
  readonly notes: string | null;
  /** Id of the rule (from an earlier --rules directory) this rule replaces; null when none. */
  readonly overrides: string | null;
  /** The `source:` block of the file the rule came from. */
  readonly source: RuleSource;
  readonly location: SourceLocation;
}

/** A known mistake or oddity in a source document, and what the rules do about it. */
export interface Erratum {
  /** `<product>.<slug>`, unique within the loaded set. */
  readonly id: string;
  readonly docSays: string;
  readonly weDid: string;
  readonly why: string;
  readonly cites: readonly Cite[];
  /** Ports the erratum is about (informational). */
  readonly ports: readonly PortSpec[];
  /** Ports or ranges the document mentions that deliberately have no rule. */
  readonly excludedPorts: readonly PortSpec[];
  /** Ids of the rules the erratum affects (must exist in the same file). */
  readonly rules: readonly string[];
  readonly location: SourceLocation;
}

export interface RuleFile {
  readonly path: string;
  readonly schema: 1;
  readonly source: RuleSource;
  readonly rules: readonly Rule[];
  readonly errata: readonly Erratum[];
}

export interface RuleSet {
  /** Every file loaded, in load order (directories in the order given, files sorted by name). */
  readonly files: readonly RuleFile[];
  /** Effective rules after overrides, sorted by id. */
  readonly rules: readonly Rule[];
  /** Rules replaced by an `override:` from a later directory. */
  readonly overridden: readonly { readonly rule: Rule; readonly by: Rule }[];
}

export function formatPortSpec(p: PortSpec): string {
  return p.lo === p.hi ? String(p.lo) : `${p.lo}-${p.hi}`;
}

/** "tcp/8443,443", "tcp/10000-19999", "icmp". */
export function formatRulePorts(rule: Pick<Rule, 'transport' | 'ports'>): string {
  if (rule.ports.length === 0) return rule.transport;
  return `${rule.transport}/${rule.ports.map(formatPortSpec).join(',')}`;
}

/** Code-unit order for ids and product keys: stable across locales (localeCompare is not). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
