/**
 * Rule directories -> RuleSet. Rule files are trusted configuration but written by hand, so the
 * loader reports every problem at once (YAML syntax, schema, cross-file ids) as
 * `file:line:col: rule <id>: <problem>` and then fails with one RuleFileError.
 *
 * Precedence (rules/README.md): directories load in the order given (the shipped rules/ first,
 * then each `--rules DIR`); files inside a directory load in name order, which never matters
 * because ids must be unique within a directory. A rule may replace a rule of an EARLIER directory
 * only by saying `override: <id>`; any other repeated id is an error.
 *
 * The shipped rules directory is served from a build-time cache (rules-cache.ts) file by file,
 * keyed by the SHA-256 of each file's bytes: an unchanged file is not parsed (and the yaml package
 * is not even loaded); a changed, new or uncached file parses as usual. Other directories always
 * parse. Problems only ever come from parsing, so error messages do not depend on the cache.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LineCounter, Node as YamlNode, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { defaultRulesCachePath, fromCachedFile, readRulesCache, sha256Hex } from './rules-cache.js';
import type { RulesCacheEntry } from './rules-cache.js';
import { ErrorCode, PortsniffError } from '../errors.js';
import { isProtocolTag } from './protocol-tags.js';
import type { ProtocolTag } from './protocol-tags.js';
import { EXPOSURES, TLS_PROMISES, TRANSPORTS, compareIds } from './types.js';
import type { Cite, Erratum, Exposure, PortSpec, Rule, RuleFile, RuleSet, RuleSource, SourceLocation, TlsPromise, Transport } from './types.js';

/** One problem found in a rule file. */
export interface RuleProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /**
   * What the problem is in: `rule <id>`, `erratum <id>` (`#<n>`, the list position, stands in for
   * a missing or invalid id), or null for file-level problems.
   */
  readonly subject: string | null;
  readonly problem: string;
}

/** `file:line:col: rule <id>: <problem>` (file-level problems have no subject). */
export function formatRuleProblem(p: RuleProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  return p.subject === null ? `${where}: ${p.problem}` : `${where}: ${p.subject}: ${p.problem}`;
}

/** Thrown by the loaders: `code` is PSN_ERR_RULE_FILE and `problems` holds every problem found. */
export class RuleFileError extends PortsniffError {
  readonly problems: readonly RuleProblem[];
  constructor(problems: readonly RuleProblem[]) {
    const n = problems.length;
    super(ErrorCode.RuleFile, `rule files have ${n} problem${n === 1 ? '' : 's'}:\n${problems.map(formatRuleProblem).join('\n')}`);
    this.name = 'RuleFileError';
    this.problems = problems;
  }
}

/** One rule file's text; `path` is what messages show. */
export interface RuleText {
  readonly path: string;
  readonly text: string;
}

/** The files of one rules directory. Later layers may override earlier ones explicitly. */
export interface RuleLayer {
  readonly name: string;
  readonly files: readonly RuleText[];
}

export interface LoadOptions {
  /** Accept a directory with no *.yaml / *.yml files (default: that is a problem). */
  readonly allowEmpty?: boolean;
  /**
   * The build-time cache of the shipped rules (rules-cache.ts): files of the directory `dir`
   * (compared by realpath) whose bytes hash as in the cache at `path` are not parsed. Default: the
   * shipped rules directory and dist/rules/shipped-rules.cache.json; null: parse everything.
   */
  readonly cache?: { readonly dir: string; readonly path: string } | null;
  /** Filled with the path of every file, by how it was loaded (tests). */
  readonly stats?: LoadStats;
}

/** How each rule file was loaded: its YAML parsed, or its RuleFile taken from the cache. */
export interface LoadStats {
  readonly parsed: string[];
  readonly cached: string[];
}

/** The shipped rules/ directory: ../../rules from src/rules/load.ts (tsx) or dist/rules/load.js. */
export function defaultRulesDir(): string {
  return fileURLToPath(new URL('../../rules/', import.meta.url));
}

/**
 * Load rule directories in precedence order (later ones may `override:` earlier ones). A path that
 * names a file is loaded as a one-file directory. Throws RuleFileError listing every problem.
 */
export function loadRuleDirs(dirs: readonly string[], opts: LoadOptions = {}): RuleSet {
  const problems: RuleProblem[] = [];
  const layers: LoadLayer[] = [];
  const cacheSpec = opts.cache === undefined ? { dir: defaultRulesDir(), path: defaultRulesCachePath() } : opts.cache;
  let cacheReal: string | null | undefined; // realpath of cacheSpec.dir, computed once when needed
  for (const dir of dirs) {
    const files: LoadFile[] = [];
    let names: string[];
    let isFile = false;
    try {
      isFile = statSync(dir).isFile();
      names = isFile ? [dir] : readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (err) {
      problems.push({ file: dir, line: 1, col: 1, subject: null, problem: `cannot read rules directory: ${describeIoError(err)}` });
      layers.push({ name: dir, files: [] }); // keeps the directory's place in the report order
      continue;
    }
    if (names.length === 0 && opts.allowEmpty !== true) {
      problems.push({ file: dir, line: 1, col: 1, subject: null, problem: 'no rule files (*.yaml, *.yml) in this directory' });
    }
    // Only the files of the cached (shipped) directory itself may come from the cache; a user's
    // --rules directory or a single file always parses.
    let cache: Map<string, RulesCacheEntry> | null = null;
    if (!isFile && cacheSpec !== null && names.length > 0) {
      if (cacheReal === undefined) cacheReal = realpathOrNull(cacheSpec.dir);
      if (cacheReal !== null && realpathOrNull(dir) === cacheReal) cache = readRulesCache(cacheSpec.path);
    }
    for (const name of names) {
      const path = isFile ? name : join(dir, name);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        problems.push({ file: path, line: 1, col: 1, subject: null, problem: `cannot read rule file: ${describeIoError(err)}` });
        continue;
      }
      const hit = cache?.get(name);
      let cached: RuleFile | null = null;
      if (hit !== undefined && hit.sha256 === sha256Hex(bytes)) {
        try {
          cached = fromCachedFile(hit.file, path);
        } catch {
          cached = null; // a malformed entry: parse instead
        }
      }
      if (cached !== null) {
        files.push({ path, parsed: cached });
        opts.stats?.cached.push(path);
      } else {
        files.push({ path, text: bytes.toString('utf8') });
        opts.stats?.parsed.push(path);
      }
    }
    layers.push({ name: dir, files });
  }
  return buildRuleSet(layers, problems);
}

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** A file of a layer: its text to parse, or the RuleFile the cache already holds for it. */
type LoadFile = RuleText | { readonly path: string; readonly parsed: RuleFile };

interface LoadLayer {
  readonly name: string;
  readonly files: readonly LoadFile[];
}

/**
 * One file's text -> its RuleFile (null when unusable) and every problem found in it alone
 * (cross-file checks such as duplicate ids are not made). The cache builder caches a file only
 * when `problems` is empty.
 */
export function parseRuleText(path: string, text: string): { file: RuleFile | null; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const file = parseRuleFile(path, text, problems);
  return { file, problems };
}

/** Same as loadRuleDirs over texts already in memory (tests, and anything not on disk). */
export function loadRuleLayers(layers: readonly RuleLayer[]): RuleSet {
  return buildRuleSet(layers, []);
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message ?? String(err);
}

function buildRuleSet(layers: readonly LoadLayer[], problems: RuleProblem[]): RuleSet {
  const files: RuleFile[] = [];
  const fileLayer: number[] = [];
  layers.forEach((layer, li) => {
    for (const f of layer.files) {
      const parsed = 'parsed' in f ? f.parsed : parseRuleFile(f.path, f.text, problems);
      if (parsed !== null) {
        files.push(parsed);
        fileLayer.push(li);
      }
    }
  });

  // Cross-file checks, layer by layer. `effective` holds the winning rule per id so far.
  const effective = new Map<string, Rule>();
  const overridden: { rule: Rule; by: Rule }[] = [];
  const errataIds = new Map<string, Erratum>();
  for (let li = 0; li < layers.length; li++) {
    const layerRules: Rule[] = [];
    for (let fi = 0; fi < files.length; fi++) {
      if (fileLayer[fi] !== li) continue;
      const file = files[fi]!;
      layerRules.push(...file.rules);
      for (const e of file.errata) {
        const first = errataIds.get(e.id);
        if (first !== undefined) problems.push(at(e.location, `erratum ${e.id}`, `duplicate erratum id (first defined at ${where(first.location)})`));
        else errataIds.set(e.id, e);
      }
    }
    // Ids must be unique inside a layer, overrides or not: otherwise the winner would depend on file order.
    const seen = new Map<string, Rule>();
    const targets = new Map<string, Rule>();
    const accepted: Rule[] = [];
    for (const r of layerRules) {
      const dup = seen.get(r.id);
      if (dup !== undefined) {
        const hint = r.overrides === null ? '' : '; override: only replaces rules of an earlier rules directory';
        problems.push(at(r.location, `rule ${r.id}`, `duplicate rule id in one rules directory (first defined at ${where(dup.location)})${hint}`));
        continue;
      }
      seen.set(r.id, r);
      if (r.overrides !== null) {
        const target = effective.get(r.overrides);
        const sameLayer = target === undefined ? layerRules.find((o) => o !== r && o.id === r.overrides) : undefined;
        if (target === undefined) {
          problems.push(at(r.location, `rule ${r.id}`, sameLayer !== undefined
            ? `override: '${r.overrides}' is defined in the same rules directory (${where(sameLayer.location)}); an override must come from a later directory`
            : `override: no rule '${r.overrides}' in an earlier rules directory`));
          continue;
        }
        const twice = targets.get(r.overrides);
        if (twice !== undefined) {
          problems.push(at(r.location, `rule ${r.id}`, `override: '${r.overrides}' is already overridden by ${twice.id} (${where(twice.location)})`));
          continue;
        }
        targets.set(r.overrides, r);
      }
      accepted.push(r);
    }
    const applied: Rule[] = [];
    for (const r of accepted) {
      const earlier = effective.get(r.id);
      if (earlier !== undefined && r.overrides !== r.id) {
        problems.push(at(r.location, `rule ${r.id}`, `duplicate rule id (first defined at ${where(earlier.location)}); to replace it from a later directory, add 'override: ${r.id}'`));
        continue;
      }
      applied.push(r);
    }
    for (const r of applied) {
      if (r.overrides === null) continue;
      overridden.push({ rule: effective.get(r.overrides)!, by: r });
      effective.delete(r.overrides);
    }
    for (const r of applied) effective.set(r.id, r);
  }

  if (problems.length > 0) {
    // Report in load order (directory, then file), and by position inside each file.
    const order = new Map<string, number>();
    for (const layer of layers) {
      if (!order.has(layer.name)) order.set(layer.name, order.size);
      for (const f of layer.files) if (!order.has(f.path)) order.set(f.path, order.size);
    }
    const rank = (f: string): number => order.get(f) ?? order.size;
    const sorted = problems
      .map((p, i) => ({ p, i }))
      .sort((a, b) => rank(a.p.file) - rank(b.p.file) || a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
      .map((x) => x.p);
    throw new RuleFileError(sorted);
  }
  const rules = [...effective.values()].sort((a, b) => compareIds(a.id, b.id));
  return { files, rules, overridden };
}

function where(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

function at(l: SourceLocation, subject: string | null, problem: string): RuleProblem {
  return { file: l.file, line: l.line, col: l.col, subject, problem };
}

// ---------------------------------------------------------------------------------------------
// One file: YAML -> RuleFile, pushing problems instead of throwing.

// The yaml package is loaded on first use: a run whose rule files all come from the build-time
// cache never loads (or JIT-compiles) the parser. yaml 2.x is CommonJS, so a synchronous require.
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}
const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);
const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);
const isPair = (node: unknown): node is Pair => yaml().isPair(node);

const ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PRODUCT_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const FILE_KEYS = ['schema', 'source', 'rules', 'errata'] as const;
const SOURCE_KEYS = ['doc', 'product', 'title'] as const;
const RULE_KEYS = ['id', 'product', 'component', 'transport', 'ports', 'purpose', 'exposure', 'exposure_inferred',
  'config_key', 'protocols', 'tls', 'cite', 'notes', 'override'] as const;
const ERRATUM_KEYS = ['id', 'doc_says', 'we_did', 'why', 'cite', 'ports', 'excluded_ports', 'rules'] as const;
const CITE_KEYS = ['line', 'text'] as const;

class FileCtx {
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    readonly problems: RuleProblem[],
  ) {}

  loc(node: YamlNode | Pair | null | undefined, fallback: SourceLocation): SourceLocation {
    const target = isPair(node) ? node.key : node;
    const range = (target as { range?: [number, number, number] } | null | undefined)?.range;
    if (range === undefined) return fallback;
    const { line, col } = this.lc.linePos(range[0]);
    return { file: this.file, line, col };
  }

  add(l: SourceLocation, subject: string | null, problem: string): void {
    this.problems.push({ file: l.file, line: l.line, col: l.col, subject, problem });
  }
}

/**
 * A map's entries by key, reporting non-string keys and keys outside `allowed`. `scope` names the map in
 * messages ("the file", "source", "cite"); null inside a rule or erratum.
 */
function entries(ctx: FileCtx, map: YAMLMap, allowed: readonly string[], ownLoc: SourceLocation, subject: string | null, scope: string | null): Map<string, { value: YamlNode | null; loc: SourceLocation }> {
  const inScope = scope === null ? '' : ` in ${scope}`;
  const out = new Map<string, { value: YamlNode | null; loc: SourceLocation }>();
  for (const pair of map.items) {
    const keyLoc = ctx.loc(pair.key as YamlNode | null, ownLoc);
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== 'string') {
      ctx.add(keyLoc, subject, `keys must be plain strings${inScope}`);
      continue;
    }
    if (!allowed.includes(key)) {
      ctx.add(keyLoc, subject, `unknown key '${key}'${inScope} (allowed: ${allowed.join(', ')})`);
      continue;
    }
    const value = (pair.value ?? null) as YamlNode | null;
    out.set(key, { value, loc: ctx.loc(value, keyLoc) });
  }
  return out;
}

function describe(node: YamlNode | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported value';
}

function str(ctx: FileCtx, m: Map<string, { value: YamlNode | null; loc: SourceLocation }>, key: string, ownLoc: SourceLocation, subject: string | null, required: boolean, scope?: string): string | null {
  const e = m.get(key);
  const inScope = scope === undefined ? '' : ` in ${scope}`;
  if (e === undefined) {
    if (required) ctx.add(ownLoc, subject, `missing required key '${key}'${inScope}`);
    return null;
  }
  if (isScalar(e.value) && typeof e.value.value === 'string' && e.value.value.trim() !== '') return e.value.value;
  ctx.add(e.loc, subject, `'${key}'${inScope} must be a non-empty string, got ${describe(e.value)}`);
  return null;
}

/** A list of items; a lone scalar is accepted where `allowSingle` (e.g. config_key: FOO). */
function list(ctx: FileCtx, e: { value: YamlNode | null; loc: SourceLocation }, key: string, subject: string | null, allowSingle: boolean): YamlNode[] | null {
  if (isSeq(e.value)) return e.value.items as YamlNode[];
  if (allowSingle && isScalar(e.value)) return [e.value];
  ctx.add(e.loc, subject, `'${key}' must be a list, got ${describe(e.value)}`);
  return null;
}

function parseRuleFile(path: string, text: string, problems: RuleProblem[]): RuleFile | null {
  const { LineCounter: LineCounterClass, parseDocument } = yaml();
  const lc = new LineCounterClass();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ctx = new FileCtx(path, lc, problems);
  const top: SourceLocation = { file: path, line: 1, col: 1 };
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    for (const e of [...doc.errors, ...doc.warnings]) {
      const { line, col } = lc.linePos(e.pos[0]);
      ctx.add({ file: path, line, col }, null, `YAML: ${e.message.split('\n')[0]}`);
    }
    return null; // the tree is not reliable enough to validate further
  }
  const root = doc.contents as YamlNode | null;
  if (!isMap(root)) {
    ctx.add(ctx.loc(root, top), null, `a rule file must be a map with keys ${FILE_KEYS.join(', ')}, got ${describe(root)}`);
    return null;
  }
  const rootLoc = ctx.loc(root, top);
  const m = entries(ctx, root, FILE_KEYS, rootLoc, null, 'the file');

  const schema = m.get('schema');
  if (schema === undefined) ctx.add(rootLoc, null, "missing required key 'schema' (this loader reads schema: 1)");
  else if (!(isScalar(schema.value) && schema.value.value === 1)) ctx.add(schema.loc, null, `unsupported schema ${describe(schema.value)} (this loader reads schema: 1)`);

  let source: RuleSource | null = null;
  const src = m.get('source');
  if (src === undefined) ctx.add(rootLoc, null, "missing required key 'source' (doc, product, title)");
  else if (!isMap(src.value)) ctx.add(src.loc, null, `'source' must be a map with doc, product, title, got ${describe(src.value)}`);
  else {
    const sm = entries(ctx, src.value, SOURCE_KEYS, src.loc, null, 'source');
    const d = str(ctx, sm, 'doc', src.loc, null, true, 'source');
    const p = str(ctx, sm, 'product', src.loc, null, true, 'source');
    const t = str(ctx, sm, 'title', src.loc, null, true, 'source');
    if (d !== null && p !== null && t !== null) source = { doc: d, product: p, title: t };
  }
  const fallbackSource: RuleSource = source ?? { doc: '?', product: '?', title: '?' };

  const rules: Rule[] = [];
  const rulesEntry = m.get('rules');
  if (rulesEntry === undefined) ctx.add(rootLoc, null, "missing required key 'rules'");
  else {
    const items = list(ctx, rulesEntry, 'rules', null, false);
    items?.forEach((item, i) => {
      const r = parseRule(ctx, item, i, rulesEntry.loc, fallbackSource);
      if (r !== null) rules.push(r);
    });
  }

  const errata: Erratum[] = [];
  const errataEntry = m.get('errata');
  if (errataEntry !== undefined && !(isScalar(errataEntry.value) && errataEntry.value.value === null)) {
    const items = list(ctx, errataEntry, 'errata', null, false);
    const ruleIds = new Set(rules.map((r) => r.id));
    items?.forEach((item, i) => {
      const e = parseErratum(ctx, item, i, errataEntry.loc, ruleIds);
      if (e !== null) errata.push(e);
    });
  }
  if (source === null) return null;
  return { path, schema: 1, source, rules, errata };
}

function parseRule(ctx: FileCtx, node: YamlNode, index: number, listLoc: SourceLocation, source: RuleSource): Rule | null {
  const own = ctx.loc(node, listLoc);
  const before = ctx.problems.length;
  if (!isMap(node)) {
    ctx.add(own, `rule #${index + 1}`, `a rule must be a map, got ${describe(node)}`);
    return null;
  }
  // The id first, so every later problem can name the rule.
  const idEntry = node.items.find((p) => isScalar(p.key) && p.key.value === 'id');
  const rawId = idEntry !== undefined && isScalar(idEntry.value) && typeof idEntry.value.value === 'string' ? idEntry.value.value : null;
  const label = `rule ${rawId !== null && ID_RE.test(rawId) ? rawId : `#${index + 1}`}`;
  const m = entries(ctx, node, RULE_KEYS, own, label, null);

  const id = str(ctx, m, 'id', own, label, true);
  if (id !== null && !ID_RE.test(id)) ctx.add(m.get('id')!.loc, label, `id '${id}' must look like <product>.<slug> (lowercase letters, digits, dashes; one dot)`);
  const product = str(ctx, m, 'product', own, label, true);
  if (product !== null && !PRODUCT_RE.test(product)) ctx.add(m.get('product')!.loc, label, `product '${product}' must be lowercase letters, digits and dashes`);
  if (id !== null && product !== null && ID_RE.test(id) && !id.startsWith(`${product}.`)) {
    ctx.add(m.get('id')!.loc, label, `id '${id}' must start with its product key '${product}.'`);
  }
  const component = str(ctx, m, 'component', own, label, true);
  const purpose = str(ctx, m, 'purpose', own, label, true);

  const transportRaw = str(ctx, m, 'transport', own, label, true);
  let transport: Transport | null = null;
  if (transportRaw !== null) {
    if ((TRANSPORTS as readonly string[]).includes(transportRaw)) transport = transportRaw as Transport;
    else ctx.add(m.get('transport')!.loc, label, `transport '${transportRaw}' must be one of ${TRANSPORTS.join(', ')}`);
  }

  const ports = parsePorts(ctx, m.get('ports'), 'ports', own, label, transport);

  let exposure: Exposure[] = [];
  const expEntry = m.get('exposure');
  if (expEntry === undefined) ctx.add(own, label, `missing required key 'exposure' (one or more of ${EXPOSURES.join(', ')})`);
  else {
    const items = list(ctx, expEntry, 'exposure', label, false);
    if (items !== null) {
      if (items.length === 0) ctx.add(expEntry.loc, label, `'exposure' must name at least one of ${EXPOSURES.join(', ')}`);
      exposure = enumList(ctx, items, expEntry.loc, label, 'exposure', EXPOSURES);
    }
  }
  const exposureInferred = bool(ctx, m, 'exposure_inferred', label) ?? false;

  const configKeys: string[] = [];
  const ck = m.get('config_key');
  if (ck !== undefined) {
    for (const item of list(ctx, ck, 'config_key', label, true) ?? []) {
      if (isScalar(item) && typeof item.value === 'string' && item.value.trim() !== '') configKeys.push(item.value);
      else ctx.add(ctx.loc(item, ck.loc), label, `config_key entries must be non-empty strings, got ${describe(item)}`);
    }
  }

  let protocols: ProtocolTag[] = [];
  const pe = m.get('protocols');
  if (pe === undefined) ctx.add(own, label, "missing required key 'protocols' (a list of tags from src/rules/protocol-tags.ts; [] when the document names none)");
  else {
    const items = list(ctx, pe, 'protocols', label, false);
    if (items !== null) {
      const seen = new Set<string>();
      for (const item of items) {
        const l = ctx.loc(item, pe.loc);
        if (!(isScalar(item) && typeof item.value === 'string')) ctx.add(l, label, `protocol tags must be strings, got ${describe(item)}`);
        else if (!isProtocolTag(item.value)) ctx.add(l, label, `unknown protocol tag '${item.value}' (see src/rules/protocol-tags.ts)`);
        else if (seen.has(item.value)) ctx.add(l, label, `protocol tag '${item.value}' listed twice`);
        else {
          seen.add(item.value);
          protocols.push(item.value);
        }
      }
    }
  }

  const tlsRaw = str(ctx, m, 'tls', own, label, true);
  let tls: TlsPromise | null = null;
  if (tlsRaw !== null) {
    if ((TLS_PROMISES as readonly string[]).includes(tlsRaw)) tls = tlsRaw as TlsPromise;
    else ctx.add(m.get('tls')!.loc, label, `tls '${tlsRaw}' must be one of ${TLS_PROMISES.join(', ')}`);
  }
  if (tls !== null && pe !== undefined) {
    const hasTlsTag = protocols.includes('tls');
    if ((tls === 'required' || tls === 'optional') && !hasTlsTag) ctx.add(m.get('tls')!.loc, label, `tls: ${tls} needs 'tls' in protocols, so that TLS evidence confirms the rule`);
    if ((tls === 'none' || tls === 'unknown') && hasTlsTag) ctx.add(m.get('tls')!.loc, label, `protocols lists 'tls' but tls is '${tls}' (use required or optional)`);
  }
  if (transport === 'icmp' && protocols.some((p) => p !== 'icmp')) {
    ctx.add(pe?.loc ?? own, label, "an icmp rule can only list the protocol tag 'icmp'");
  }

  const cites = parseCites(ctx, m.get('cite'), own, label);
  const notes = str(ctx, m, 'notes', own, label, false);
  const overrides = str(ctx, m, 'override', own, label, false);
  if (overrides !== null && !ID_RE.test(overrides)) ctx.add(m.get('override')!.loc, label, `override '${overrides}' is not a rule id`);

  if (ctx.problems.length > before || id === null || product === null || component === null || purpose === null
    || transport === null || ports === null || tls === null || cites === null) return null;
  return {
    id, product, component, transport, ports, purpose, exposure, exposureInferred, configKeys, protocols, tls, cites,
    notes, overrides, source, location: own,
  };
}

function bool(ctx: FileCtx, m: Map<string, { value: YamlNode | null; loc: SourceLocation }>, key: string, label: string | null): boolean | null {
  const e = m.get(key);
  if (e === undefined) return null;
  if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
  ctx.add(e.loc, label, `'${key}' must be true or false, got ${describe(e.value)}`);
  return null;
}

function enumList<T extends string>(ctx: FileCtx, items: YamlNode[], listLoc: SourceLocation, label: string, key: string, allowed: readonly T[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    const l = ctx.loc(item, listLoc);
    if (!(isScalar(item) && typeof item.value === 'string' && (allowed as readonly string[]).includes(item.value))) {
      const shown = isScalar(item) && typeof item.value === 'string' ? `'${item.value}'` : describe(item);
      ctx.add(l, label, `${key} ${shown} is not one of ${allowed.join(', ')}`);
    } else if (out.includes(item.value as T)) {
      ctx.add(l, label, `${key} '${item.value}' listed twice`);
    } else {
      out.push(item.value as T);
    }
  }
  return out;
}

const RANGE_RE = /^\s*(\d+)\s*-\s*(\d+)\s*$/;

/**
 * `ports:` for a rule (transport known) or an erratum (transport null, ports optional).
 * Returns the specs sorted by `lo`, or null after reporting problems.
 */
function parsePorts(ctx: FileCtx, e: { value: YamlNode | null; loc: SourceLocation } | undefined, key: string, own: SourceLocation, label: string, transport: Transport | null | 'any'): PortSpec[] | null {
  if (transport === 'icmp') {
    if (e !== undefined && !(isSeq(e.value) && e.value.items.length === 0)) {
      ctx.add(e.loc, label, 'an icmp rule has no ports (leave out ports:)');
      return null;
    }
    return [];
  }
  if (e === undefined) {
    if (transport === 'any') return [];
    ctx.add(own, label, `missing required key '${key}' (numbers and "lo-hi" strings)`);
    return null;
  }
  const items = list(ctx, e, key, label, false);
  if (items === null) return null;
  if (items.length === 0 && transport !== 'any') {
    ctx.add(e.loc, label, `'${key}' must list at least one port`);
    return null;
  }
  const specs: { spec: PortSpec; loc: SourceLocation }[] = [];
  let bad = false;
  for (const item of items) {
    const l = ctx.loc(item, e.loc);
    const spec = portSpecOf(item);
    if (typeof spec === 'string') {
      ctx.add(l, label, spec);
      bad = true;
    } else {
      specs.push({ spec, loc: l });
    }
  }
  specs.sort((a, b) => a.spec.lo - b.spec.lo || a.spec.hi - b.spec.hi);
  for (let i = 1; i < specs.length; i++) {
    const prev = specs[i - 1]!;
    const cur = specs[i]!;
    if (cur.spec.lo <= prev.spec.hi) {
      ctx.add(cur.loc, label, cur.spec.lo === prev.spec.lo && cur.spec.hi === prev.spec.hi
        ? `port ${fmt(cur.spec)} listed twice in '${key}'`
        : `ports ${fmt(prev.spec)} and ${fmt(cur.spec)} overlap in '${key}'`);
      bad = true;
    }
  }
  return bad ? null : specs.map((s) => s.spec);
}

function fmt(p: PortSpec): string {
  return p.lo === p.hi ? String(p.lo) : `${p.lo}-${p.hi}`;
}

/** One `ports:` item: 8080, "8080" or "10000-19999". A string is the problem. */
function portSpecOf(item: YamlNode): PortSpec | string {
  if (!isScalar(item)) return `a port must be a number or a "lo-hi" string, got ${describe(item)}`;
  const v = item.value;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) return `port ${String(v)} is not a port number (1-65535)`;
    return { lo: v, hi: v };
  }
  if (typeof v === 'string') {
    if (/^\s*\d+\s*$/.test(v)) {
      const n = Number(v);
      if (n < 1 || n > 65535) return `port ${v.trim()} is not a port number (1-65535)`;
      return { lo: n, hi: n };
    }
    const r = RANGE_RE.exec(v);
    if (r === null) return `port ${JSON.stringify(v)} must be a number or a "lo-hi" range`;
    const lo = Number(r[1]);
    const hi = Number(r[2]);
    if (lo < 1 || hi > 65535) return `range ${v} is outside 1-65535`;
    if (lo === hi) return `range ${v} is a single port; write ${lo}`;
    if (lo > hi) return `range ${v} runs backwards (low end first: ${hi}-${lo})`;
    return { lo, hi };
  }
  return `a port must be a number or a "lo-hi" string, got ${describe(item)}`;
}

function parseCites(ctx: FileCtx, e: { value: YamlNode | null; loc: SourceLocation } | undefined, own: SourceLocation, label: string): Cite[] | null {
  if (e === undefined) {
    ctx.add(own, label, "missing required key 'cite' ({line, text}: the source row and its line number)");
    return null;
  }
  const items: YamlNode[] = isSeq(e.value) ? (e.value.items as YamlNode[]) : e.value === null ? [] : [e.value];
  if (items.length === 0) {
    ctx.add(e.loc, label, "'cite' must give at least one {line, text}");
    return null;
  }
  const out: Cite[] = [];
  let bad = false;
  for (const item of items) {
    const l = ctx.loc(item, e.loc);
    if (!isMap(item)) {
      ctx.add(l, label, `a cite must be a map {line, text}, got ${describe(item)}`);
      bad = true;
      continue;
    }
    const cm = entries(ctx, item, CITE_KEYS, l, label, 'cite');
    const text = str(ctx, cm, 'text', l, label, true, 'cite');
    let line: number | null = null;
    const le = cm.get('line');
    if (le !== undefined) {
      if (isScalar(le.value) && typeof le.value.value === 'number' && Number.isInteger(le.value.value) && le.value.value >= 1) line = le.value.value;
      else {
        ctx.add(le.loc, label, `cite line must be a positive whole number, got ${describe(le.value)}`);
        bad = true;
      }
    }
    if (text === null) bad = true;
    else out.push({ line, text });
  }
  return bad ? null : out;
}

function parseErratum(ctx: FileCtx, node: YamlNode, index: number, listLoc: SourceLocation, ruleIds: ReadonlySet<string>): Erratum | null {
  const own = ctx.loc(node, listLoc);
  const before = ctx.problems.length;
  if (!isMap(node)) {
    ctx.add(own, `erratum #${index + 1}`, `an erratum must be a map, got ${describe(node)}`);
    return null;
  }
  const idEntry = node.items.find((p) => isScalar(p.key) && p.key.value === 'id');
  const rawId = idEntry !== undefined && isScalar(idEntry.value) && typeof idEntry.value.value === 'string' ? idEntry.value.value : null;
  const label = `erratum ${rawId !== null && ID_RE.test(rawId) ? rawId : `#${index + 1}`}`;
  const m = entries(ctx, node, ERRATUM_KEYS, own, label, null);
  const id = str(ctx, m, 'id', own, label, true);
  if (id !== null && !ID_RE.test(id)) ctx.add(m.get('id')!.loc, label, `id '${id}' must look like <product>.<slug>`);
  const docSays = str(ctx, m, 'doc_says', own, label, true);
  const weDid = str(ctx, m, 'we_did', own, label, true);
  const why = str(ctx, m, 'why', own, label, true);
  const cites = parseCites(ctx, m.get('cite'), own, label);
  const ports = parsePorts(ctx, m.get('ports'), 'ports', own, label, 'any');
  const excludedPorts = parsePorts(ctx, m.get('excluded_ports'), 'excluded_ports', own, label, 'any');
  const rules: string[] = [];
  const re = m.get('rules');
  if (re !== undefined) {
    for (const item of list(ctx, re, 'rules', label, false) ?? []) {
      const l = ctx.loc(item, re.loc);
      if (!(isScalar(item) && typeof item.value === 'string')) ctx.add(l, label, `rules entries must be rule ids, got ${describe(item)}`);
      else if (!ruleIds.has(item.value)) ctx.add(l, label, `rules: no rule '${item.value}' in this file`);
      else rules.push(item.value);
    }
  }
  if (ctx.problems.length > before || id === null || docSays === null || weDid === null || why === null || cites === null
    || ports === null || excludedPorts === null) return null;
  return { id, docSays, weDid, why, cites, ports, excludedPorts, rules, location: own };
}
