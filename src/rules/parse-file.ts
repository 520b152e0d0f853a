/**
 * One rule file: YAML text -> RuleFile, every problem pushed (with file:line:col and the rule or
 * erratum it is in) instead of thrown. Checks within the file only; ids across files are
 * resolve.ts's. The keys, required keys and patterns come from schema.ts.
 */
import type { ProtocolTag } from './protocol-tags.js';
import { isProtocolTag } from './protocol-tags.js';
import type { RuleProblem } from './problems.js';
import { CITE_KEYS, ERRATUM_KEYS, FILE_KEYS, ID_RE, PRODUCT_RE, RANGE_RE, RULE_KEYS, SOURCE_KEYS } from './schema.js';
import { EXPOSURES, formatPortSpec, TLS_PROMISES, TRANSPORTS } from './types.js';
import type { Cite, Erratum, Exposure, PortSpec, Rule, RuleFile, RuleSource, SourceLocation, TlsPromise, Transport } from './types.js';
import { bool, describe, entries, enumList, FileCtx, isMap, isScalar, isSeq, list, parseYaml, str, subjectLabel, type Entry, type YamlNode } from './yaml-tree.js';

/** The file's RuleFile, or null when unusable; its problems are pushed onto `problems`. */
export function parseRuleFile(path: string, text: string, problems: RuleProblem[]): RuleFile | null {
  const { doc, lc } = parseYaml(text);
  const ctx = new FileCtx(path, lc, problems);
  const top: SourceLocation = { file: path, line: 1, col: 1 };
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    for (const e of [...doc.errors, ...doc.warnings]) ctx.add(ctx.at(e.pos[0]), null, `YAML: ${e.message.split('\n')[0]}`);
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
  const label = subjectLabel('rule', node, index, ID_RE);
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



/**
 * `ports:` for a rule (transport known) or an erratum (transport null, ports optional).
 * Returns the specs sorted by `lo`, or null after reporting problems.
 */
function parsePorts(ctx: FileCtx, e: Entry | undefined, key: string, own: SourceLocation, label: string, transport: Transport | null | 'any'): PortSpec[] | null {
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
        ? `port ${formatPortSpec(cur.spec)} listed twice in '${key}'`
        : `ports ${formatPortSpec(prev.spec)} and ${formatPortSpec(cur.spec)} overlap in '${key}'`);
      bad = true;
    }
  }
  return bad ? null : specs.map((s) => s.spec);
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

function parseCites(ctx: FileCtx, e: Entry | undefined, own: SourceLocation, label: string): Cite[] | null {
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
  const label = subjectLabel('erratum', node, index, ID_RE);
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
