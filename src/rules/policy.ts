/**
 * The exposure policy file (`--policy FILE`, docs/policy.md): the operator's named networks and,
 * per product or rule, which networks may be clients. YAML, validated like rule files: every
 * problem at once as `file:line:col: <subject>: <problem>`, then one PolicyFileError.
 *
 * The shape is one zod schema (policySchema()), which also produces rules/policy.schema.json for
 * editors (`npm run schema`, checked fresh by a test). What a schema cannot say (prefix syntax,
 * known products and rule ids, defined network names, duplicates) is checked here after it.
 * Evaluation per flow is classify/policy-check.ts; this module only produces plain data
 * (PolicySpec), which worker threads receive as is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, PortsniffError } from '../errors.js';
import { parsePrefix } from '../util/address.js';
import { formatRuleProblem, type RuleProblem } from './load.js';
import type { RuleSet, SourceLocation } from './types.js';

export const POLICY_SCHEMA_VERSION = 1;

/** Names with a fixed meaning that a file may not define. */
export const BUILTIN_NETWORKS = ['any', 'loopback'] as const;
/**
 * Names a file may define with a special meaning: `private` replaces the built-in private ranges
 * for ports documented as `internal`; `monitoring` adds to --monitoring-hosts (the clients of
 * `monitoring-only` ports).
 */
export const SPECIAL_NETWORKS = ['private', 'monitoring'] as const;

const NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * The schema, built on first use: zod takes ~180 ms to load, which a run without --policy must not
 * pay (the yaml parser is loaded lazily for the same reason).
 */
let schemaCache: ReturnType<typeof buildSchema> | undefined;
export function policySchema(): ReturnType<typeof buildSchema> {
  schemaCache ??= buildSchema(createRequire(import.meta.url)('zod') as typeof import('zod'));
  return schemaCache;
}

function buildSchema({ z }: typeof import('zod')) {
  const networkName = z.string().regex(NAME_RE, { error: 'network names are lowercase letters, digits and dashes, starting with a letter' });
  return z
    .strictObject({
      schema: z.literal(POLICY_SCHEMA_VERSION).describe('Policy file format version; this portsniff reads 1.'),
      networks: z
        .record(networkName, z.array(z.string()).min(1).describe('Addresses (a host) and prefixes, e.g. 10.20.0.0/24, 192.0.2.7, fd00:20::/64.'))
        .optional()
        .describe(
          'Named networks. `private` replaces the built-in private ranges for ports documented as internal; `monitoring` adds to --monitoring-hosts. `any` and `loopback` are built in.',
        ),
      clients: z
        .array(
          z
            .strictObject({
              product: z.string().optional().describe('A product key (rules/README.md): the entry applies to every rule of the product.'),
              rules: z.array(z.string()).min(1).optional().describe('Rule ids: the entry applies to these rules (beats a product entry).'),
              from: z.array(networkName).min(1).describe('Networks whose hosts may be clients: names from `networks`, or any, loopback, private, monitoring.'),
              note: z.string().optional().describe('Why (shown by nothing; for the reader of the file).'),
            })
            .describe('Who may be a client of a product or of some rules; give either product or rules.'),
        )
        .optional()
        .describe('Per product or rule, which networks may be clients. A flow of a rule with an entry is checked against it instead of the documented exposure.'),
    })
    .describe('portsniff exposure policy (docs/policy.md)');
}

/** The JSON Schema (draft-07) editors use: rules/policy.schema.json is this, written by `npm run schema`. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    title: 'portsniff exposure policy',
    ...((createRequire(import.meta.url)('zod') as typeof import('zod')).z.toJSONSchema(policySchema(), { target: 'draft-7' }) as Record<string, unknown>),
  };
}

export interface PolicyNetwork {
  name: string;
  /** As written (validated). */
  prefixes: string[];
  location: SourceLocation;
}

export interface PolicyEntry {
  /** The product key, or null for a rules entry. */
  product: string | null;
  /** Rule ids (empty for a product entry). */
  rules: string[];
  from: string[];
  location: SourceLocation;
}

/** A validated policy as plain data (cloned into worker threads). */
export interface PolicySpec {
  path: string;
  networks: PolicyNetwork[];
  entries: PolicyEntry[];
}

export class PolicyFileError extends PortsniffError {
  readonly problems: readonly RuleProblem[];
  constructor(problems: readonly RuleProblem[]) {
    const n = problems.length;
    super(ErrorCode.PolicyFile, `policy file has ${n} problem${n === 1 ? '' : 's'}:\n${problems.map(formatRuleProblem).join('\n')}`);
    this.name = 'PolicyFileError';
    this.problems = problems;
  }
}

export interface PolicyLoadOptions {
  /** Whether --monitoring-hosts was given (then `monitoring` is defined even if the file does not). */
  monitoringHosts: boolean;
}

/** Reads and validates a policy file against the loaded rules; throws PolicyFileError. */
export function loadPolicyFile(path: string, ruleSet: RuleSet, opts: PolicyLoadOptions): PolicySpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new PolicyFileError([{ file: path, line: 1, col: 1, subject: null, problem: `cannot read policy file: ${why}` }]);
  }
  const { spec, problems } = parsePolicyText(path, text, ruleSet, opts);
  if (problems.length > 0 || spec === null) throw new PolicyFileError(problems);
  return spec;
}

let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** One policy text -> its spec (null when unusable) and every problem, sorted by position. */
export function parsePolicyText(path: string, text: string, ruleSet: RuleSet, opts: PolicyLoadOptions): { spec: PolicySpec | null; problems: RuleProblem[] } {
  const { LineCounter: LineCounterClass, parseDocument } = yaml();
  const lc = new LineCounterClass();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RuleProblem[] = [];
  const at = (pos: number): SourceLocation => ({ file: path, ...lc.linePos(pos) });
  const add = (l: SourceLocation, subject: string | null, problem: string): void => {
    problems.push({ file: l.file, line: l.line, col: l.col, subject, problem });
  };
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    for (const e of [...doc.errors, ...doc.warnings]) add(at(e.pos[0]), null, `YAML: ${e.message.split('\n')[0]}`);
    return { spec: null, problems: sorted(problems) };
  }
  const locate = new Locator(doc, lc, path);
  const value: unknown = doc.toJS();
  const parsed = policySchema().safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Array<string | number>;
      const subject = subjectOf(path);
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) add(locate.key([...path, key]), subject, `unknown key '${key}'${inScope(path)} (allowed: ${allowedKeys(path).join(', ')})`);
      } else if (issue.code === 'invalid_key') {
        add(locate.key(path), subject, `network name '${String(path.at(-1))}': lowercase letters, digits and dashes, starting with a letter`);
      } else {
        add(locate.value(path), subject, describeIssue(issue, path, value));
      }
    }
  }
  // What a schema cannot check, over whatever parts are well formed, so that every problem of the
  // file is reported in one go.
  const root = isRecord(value) ? value : {};
  const networks: PolicyNetwork[] = [];
  for (const [name, list] of Object.entries(isRecord(root['networks']) ? root['networks'] : {})) {
    const subject = `network ${name}`;
    if (!NAME_RE.test(name)) continue; // reported by the schema
    if ((BUILTIN_NETWORKS as readonly string[]).includes(name)) {
      add(locate.key(['networks', name]), subject, `'${name}' is built in and cannot be redefined`);
      continue;
    }
    const items = Array.isArray(list) ? list : [];
    items.forEach((item: unknown, i) => {
      if (typeof item !== 'string') return;
      const p = parsePrefix(item.trim());
      if (typeof p === 'string') add(locate.value(['networks', name, i]), subject, p);
    });
    networks.push({ name, prefixes: items.filter((x): x is string => typeof x === 'string').map((x) => x.trim()), location: locate.key(['networks', name]) });
  }
  const defined = new Set<string>([...BUILTIN_NETWORKS, 'private', ...networks.map((n) => n.name)]);
  if (opts.monitoringHosts) defined.add('monitoring');

  // Entries: product xor rules, known products and rule ids, defined networks, no duplicates.
  const products = new Set(ruleSet.rules.map((r) => r.product));
  const ruleIds = new Set(ruleSet.rules.map((r) => r.id));
  const byProduct = new Map<string, SourceLocation>();
  const byRule = new Map<string, SourceLocation>();
  const entries: PolicyEntry[] = [];
  const clients = Array.isArray(root['clients']) ? (root['clients'] as unknown[]) : [];
  clients.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const own = locate.value(['clients', i]);
    const subject = `clients #${i + 1}`;
    const product = typeof raw['product'] === 'string' ? raw['product'] : null;
    const rules = Array.isArray(raw['rules']) ? raw['rules'].filter((x): x is string => typeof x === 'string') : [];
    const from = Array.isArray(raw['from']) ? raw['from'].filter((x): x is string => typeof x === 'string') : [];
    const hasProduct = raw['product'] !== undefined;
    if (hasProduct === (raw['rules'] !== undefined)) {
      add(own, subject, hasProduct ? "give either 'product' or 'rules', not both" : "give 'product' or 'rules': whose clients this entry names");
    }
    if (product !== null) {
      const l = locate.value(['clients', i, 'product']);
      if (!products.has(product)) add(l, subject, `unknown product '${product}' (known: ${[...products].sort().join(', ')})`);
      const first = byProduct.get(product);
      if (first !== undefined) add(l, subject, `product '${product}' already has an entry (${where(first)})`);
      else byProduct.set(product, l);
    }
    (Array.isArray(raw['rules']) ? (raw['rules'] as unknown[]) : []).forEach((id, k) => {
      if (typeof id !== 'string') return;
      const l = locate.value(['clients', i, 'rules', k]);
      if (!ruleIds.has(id)) add(l, subject, `unknown rule id '${id}' (see: portsniff rules list)`);
      const first = byRule.get(id);
      if (first !== undefined) add(l, subject, `rule '${id}' already has an entry (${where(first)})`);
      else byRule.set(id, l);
    });
    (Array.isArray(raw['from']) ? (raw['from'] as unknown[]) : []).forEach((name, k) => {
      if (typeof name !== 'string' || !NAME_RE.test(name) || defined.has(name)) return;
      const hint = name === 'monitoring' ? ': define networks.monitoring or give --monitoring-hosts' : ` (defined: ${[...defined].sort().join(', ')})`;
      add(locate.value(['clients', i, 'from', k]), subject, `network '${name}' is not defined${hint}`);
    });
    entries.push({ product, rules, from, location: own });
  });
  if (problems.length > 0) return { spec: null, problems: sorted(problems) };
  return { spec: { path, networks, entries }, problems };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sorted(problems: RuleProblem[]): RuleProblem[] {
  return problems.map((p, i) => ({ p, i })).sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i).map((x) => x.p);
}

function where(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

/** "network ops", "clients #2", or null for file-level problems. */
function subjectOf(path: ReadonlyArray<string | number>): string | null {
  if (path[0] === 'networks' && path.length >= 2) return `network ${String(path[1])}`;
  if (path[0] === 'clients' && typeof path[1] === 'number') return `clients #${path[1] + 1}`;
  return null;
}

function inScope(path: ReadonlyArray<string | number>): string {
  return path.length === 0 ? ' in the file' : path[0] === 'clients' && path.length === 2 ? '' : ` in ${path.join('.')}`;
}

function allowedKeys(path: ReadonlyArray<string | number>): string[] {
  if (path.length === 0) return ['schema', 'networks', 'clients'];
  return ['product', 'rules', 'from', 'note'];
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let v = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, path: ReadonlyArray<string | number>, root: unknown): string {
  const name = path.length === 0 ? 'the file' : `'${path.filter((p) => typeof p === 'string').at(-1) ?? path.join('.')}'`;
  const got = describeValue(valueAt(root, path));
  if (path[0] === 'schema' && path.length === 1) {
    return valueAt(root, path) === undefined ? "missing required key 'schema' (this portsniff reads schema: 1)" : `unsupported schema ${got} (this portsniff reads schema: 1)`;
  }
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(root, path) === undefined) return `missing required key ${name}`;
      if (path.length === 0) return `a policy file must be a map with keys schema, networks, clients, got ${got}`;
      return `${name} must be ${article(issue.expected)}, got ${got}`;
    case 'too_small':
      return `${name} must not be empty`;
    case 'invalid_format':
      return `${got}: network names are lowercase letters, digits and dashes, starting with a letter`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  return expected === 'array' ? 'a list' : expected === 'object' || expected === 'record' ? 'a map' : `a ${expected}`;
}

/** Positions of YAML nodes by the path zod reports. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  private pos(node: unknown): SourceLocation | null {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range === undefined ? null : { file: this.file, ...this.lc.linePos(range[0]) };
  }

  /** The value at `path`, else the nearest ancestor that exists. */
  value(path: ReadonlyArray<string | number>): SourceLocation {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const l = this.pos(node);
      if (l !== null) return l;
      // A key with a null value: point at the key.
      if (n > 0 && typeof path[n - 1] === 'string') {
        const k = this.keyOrNull(path.slice(0, n));
        if (k !== null) return k;
      }
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** The key node of the map entry at `path`, else the position of the map holding it. */
  key(path: ReadonlyArray<string | number>): SourceLocation {
    return this.keyOrNull(path) ?? this.value(path.slice(0, -1));
  }

  private keyOrNull(path: ReadonlyArray<string | number>): SourceLocation | null {
    const parent = path.length <= 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const items = (parent as { items?: Array<{ key?: YamlNode & { value?: unknown } }> } | null)?.items ?? [];
    const last = path.at(-1);
    for (const pair of items) {
      const k = pair?.key as { value?: unknown } | undefined;
      if (k !== undefined && k !== null && k.value === last) {
        const l = this.pos(k);
        if (l !== null) return l;
      }
    }
    return null;
  }
}
