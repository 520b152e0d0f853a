/**
 * `portsniff rules list|check|explain`: look at the port map without capturing anything.
 *
 *   rules list [--products a,b] [--rules DIR]... [--json]   every effective rule, one per row
 *   rules check [DIR...]                                    validate; all problems, exit 2 on any
 *   rules explain tcp/8443 [--products a,b] [--rules DIR]... candidates, tiers, decision, why
 *
 * The rule directories are the shipped rules/ plus every `--rules DIR` (check: plus each DIR
 * argument), in that order; later directories may `override:` earlier rules. Output goes through
 * the injected writers; exit codes go through `setExitCode` (0 ok, 2 usage or rule-file problems).
 */
import type { Command } from 'commander';
import { PortsniffError, UsageError } from '../../errors.js';
import { compileRules, selectRules, type PortIndex } from '../../rules/compile.js';
import type { Candidate } from '../../rules/compile.js';
import { defaultRulesDir, loadRuleDirs, RuleFileError, formatRuleProblem } from '../../rules/load.js';
import { formatPortSpec, formatRulePorts } from '../../rules/types.js';
import { ipProtoByName, isIcmpProto } from '../../util/ip-proto.js';
import type { Rule } from '../../rules/types.js';
import { decidePorts } from '../../classify/port-decision.js';
import { collectList, collectRepeat } from '../options.js';

/** Where the rules commands write. Each call is one line without the trailing newline. */
export interface RulesIo {
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
}

/** Maps the user's extra directories (--rules, or check's arguments) to the full load order. */
export type GetRuleDirs = (extraDirs: readonly string[]) => string[];

/** Shipped rules first, then the user's directories in the order given. */
export const defaultGetRuleDirs: GetRuleDirs = (extra) => [defaultRulesDir(), ...extra];

export const EXIT_OK = 0;
export const EXIT_USAGE = 2; // same as every portsniff command
export const EXIT_RULE_FILES = 2;

export interface RulesListOptions {
  products?: string[] | undefined;
  json?: boolean | undefined;
}

export interface RulesExplainOptions {
  products?: string[] | undefined;
}

export function registerRulesCommands(program: Command, getRuleDirs: GetRuleDirs, io: RulesIo): Command {
  const rules = program.command('rules').description('inspect and validate the port map (rules/*.yaml)');

  rules
    .command('list')
    .description('list the effective rules')
    .option('--products <keys>', 'only these product keys (comma-separated, repeatable)', collectList)
    .option('--rules <dir>', 'extra rules directory, loaded after the shipped one (repeatable)', collectRepeat)
    .option('--json', 'JSON array instead of a table')
    .action((opts: { products?: string[]; rules?: string[]; json?: boolean }) => {
      io.setExitCode(runRulesList(getRuleDirs(opts.rules ?? []), { products: opts.products, json: opts.json }, io));
    });

  rules
    .command('check')
    .description('validate the shipped rules plus each DIR; print every problem (exit 2) or a summary')
    .argument('[dirs...]', 'extra rules directories (or files), loaded after the shipped one')
    .action((dirs: string[]) => {
      io.setExitCode(runRulesCheck(getRuleDirs(dirs), io));
    });

  rules
    .command('explain')
    .description('show every rule matching a port, its specificity, and the decision')
    .argument('<target>', 'PORT (tcp and udp), tcp/PORT, udp/PORT, sctp/PORT or icmp')
    .option('--products <keys>', 'only these product keys (comma-separated, repeatable)', collectList)
    .option('--rules <dir>', 'extra rules directory, loaded after the shipped one (repeatable)', collectRepeat)
    .action((target: string, opts: { products?: string[]; rules?: string[] }) => {
      io.setExitCode(runRulesExplain(getRuleDirs(opts.rules ?? []), target, { products: opts.products }, io));
    });

  return rules;
}

/** Runs a command body, turning rule-file problems (exit 2) and usage errors (exit 2) into output. */
function guarded(io: RulesIo, body: () => number): number {
  try {
    return body();
  } catch (err) {
    if (err instanceof RuleFileError) {
      for (const p of err.problems) io.err(formatRuleProblem(p));
      io.err(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in rule files`);
      return EXIT_RULE_FILES;
    }
    if (err instanceof UsageError) {
      io.err(`portsniff: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof PortsniffError) {
      io.err(`portsniff: ${err.message}`);
      return EXIT_RULE_FILES;
    }
    throw err;
  }
}

export function runRulesList(dirs: readonly string[], opts: RulesListOptions, io: RulesIo): number {
  return guarded(io, () => {
    const set = loadRuleDirs(dirs);
    const { rules, filter } = selectRules(set, opts.products);
    if (opts.json === true) {
      io.out(JSON.stringify(rules.map(ruleJson), null, 2));
      return EXIT_OK;
    }
    const rows = rules.map((r) => [
      r.id,
      r.product,
      r.component,
      formatRulePorts(r),
      r.exposure.join(',') + (r.exposureInferred ? '*' : ''),
      r.protocols.length === 0 ? '-' : r.protocols.join(','),
    ]);
    for (const line of table(['ID', 'PRODUCT', 'COMPONENT', 'PORTS', 'EXPOSURE', 'PROTOCOLS'], rows)) io.out(line);
    io.out('');
    io.out(`${rules.length} rule${rules.length === 1 ? '' : 's'}${filter === null ? '' : ` (products: ${filter.join(', ')})`} from ${set.files.length} file${set.files.length === 1 ? '' : 's'}; * = exposure inferred, not stated by the source`);
    return EXIT_OK;
  });
}

export function runRulesCheck(dirs: readonly string[], io: RulesIo): number {
  return guarded(io, () => {
    const set = loadRuleDirs(dirs);
    compileRules(set); // the index must build too (group limit)
    io.out(`${set.files.length} file${set.files.length === 1 ? '' : 's'}, ${set.rules.length} rule${set.rules.length === 1 ? '' : 's'} OK`);
    for (const o of set.overridden) io.out(`  ${o.rule.id} (${where(o.rule)}) overridden by ${o.by.id} (${where(o.by)})`);
    return EXIT_OK;
  });
}

interface ExplainTarget {
  name: string;
  proto: number;
  port: number | null;
}

/**
 * "tcp/8443" -> [{proto 6, port 8443}]; "icmp" -> [{proto 1, port null}]; a bare port ("8443") is
 * both tcp/8443 and udp/8443, in that order.
 */
export function parseExplainTargets(target: string): ExplainTarget[] {
  const m = /^(?:(tcp|udp|sctp|icmp|icmpv6)(?:\/(\d{1,5}))?|(\d{1,5}))$/i.exec(target.trim());
  const usage = `explain target must be PORT, tcp/PORT, udp/PORT, sctp/PORT or icmp, got '${target}'`;
  if (m === null) throw new UsageError(usage);
  const portText = m[2] ?? m[3];
  const port = portText === undefined ? null : Number(portText);
  if (port !== null && (port < 1 || port > 65535)) throw new UsageError(`port must be between 1 and 65535, got ${port}`);
  if (m[3] !== undefined) return ['tcp', 'udp'].map((name) => ({ name, proto: ipProtoByName(name)!, port }));
  const name = m[1]!.toLowerCase();
  const proto = ipProtoByName(name)!;
  if (isIcmpProto(proto)) {
    if (port !== null) throw new UsageError(`${name} has no ports; write just '${name}'`);
    return [{ name, proto, port: null }];
  }
  if (port === null) throw new UsageError(usage);
  return [{ name, proto, port }];
}

export function runRulesExplain(dirs: readonly string[], target: string, opts: RulesExplainOptions, io: RulesIo): number {
  return guarded(io, () => {
    const targets = parseExplainTargets(target);
    const set = loadRuleDirs(dirs);
    const index = compileRules(set, { products: opts.products });
    targets.forEach((t, i) => {
      if (i > 0) io.out('');
      explainOne(index, t, io);
    });
    return EXIT_OK;
  });
}

/** One target's candidates, tiers, decision and why. */
function explainOne(index: PortIndex, t: ExplainTarget, io: RulesIo): void {
  const label = t.port === null ? t.name : `${t.name}/${t.port}`;
  const scope = index.productFilter === null ? '' : ` (products: ${index.productFilter.join(', ')})`;
  const d = decidePorts(index, t.proto, t.port ?? 0, 0);
  const all = [...d.candidates, ...d.alternatives];
  if (all.length === 0) {
    io.out(`${label}: no rule matches${scope}`);
    io.out('decision: none (unknown)');
    io.out(t.port === null
      ? `why: no ${t.name} rule is loaded.`
      : `why: no rule covers ${label}; a flow on it is classified by its other port if that one matches, else it stays unknown.`);
    return;
  }
  io.out(`${label}: ${all.length} rule${all.length === 1 ? '' : 's'} match${all.length === 1 ? 'es' : ''}${scope}`);
  const rows: string[][] = [];
  for (const c of all) {
    rows.push([
      `  ${c.tier + 1}`,
      specificity(c),
      c.rule.id,
      c.rule.component,
      clip(c.rule.purpose, 48),
      c.rule.protocols.length === 0 ? '-' : c.rule.protocols.join(','),
      c.rule.tls,
      cited(c.rule),
    ]);
  }
  for (const line of table(['  TIER', 'SPECIFICITY', 'RULE', 'COMPONENT', 'PURPOSE', 'PROTOCOLS', 'TLS', 'SOURCE'], rows)) io.out(line);
  const best = d.candidates;
  const lower = d.alternatives.length;
  const lowerText = lower === 0 ? '' : ` ${lower} less specific rule${lower === 1 ? '' : 's'} in lower tiers lose${lower === 1 ? 's' : ''} to ${d.ambiguous ? 'them' : 'it'}.`;
  if (d.ambiguous) {
    const products = [...new Set(best.map((c) => c.rule.product))].sort();
    io.out(`decision: ambiguous between ${best.map((c) => c.rule.id).join(', ')}`);
    io.out(`why: ${best.length} rules tie at the most specific tier (${specificity(best[0]!)}); portsniff never breaks ties.${lowerText}`
      + (products.length > 1 ? ` Narrow with --products (here: ${products.join(', ')}).` : ' They belong to one product; payload evidence may tell them apart.'));
  } else {
    const r = best[0]!.rule;
    io.out(`decision: ${r.id} (${r.product}, ${r.component}: ${r.purpose})`);
    io.out(best[0]!.kind === 'transport'
      ? `why: the only ${t.name} rule; ICMP has no ports.${lowerText}`
      : `why: ${specificity(best[0]!)} is the most specific match.${lowerText}`);
  }
  // Who the documents expect as clients: what flows on this port are checked against.
  for (const c of best) io.out(`exposure: ${best.length > 1 ? `${c.rule.id}: ` : ''}${exposureText(c.rule)}`);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}\u2026`; // …, escaped: the CLI bundle stays ASCII
}

function specificity(c: Candidate): string {
  if (c.kind === 'transport' || c.spec === null) return 'transport (no ports)';
  if (c.kind === 'exact') return `exact ${c.rule.transport}/${formatPortSpec(c.spec)}`;
  return `range ${c.rule.transport}/${formatPortSpec(c.spec)} (width ${c.width})`;
}

function cited(r: Rule): string {
  const line = r.cites[0]?.line;
  return line === null || line === undefined ? r.source.doc : `${r.source.doc}:${line}`;
}

function where(r: Rule): string {
  return `${r.location.file}:${r.location.line}:${r.location.col}`;
}

/** The rule as JSON, with the YAML field names. */
export function ruleJson(r: Rule): Record<string, unknown> {
  return {
    id: r.id,
    product: r.product,
    component: r.component,
    transport: r.transport,
    ports: r.ports.map((p) => (p.lo === p.hi ? p.lo : formatPortSpec(p))),
    purpose: r.purpose,
    exposure: r.exposure,
    exposure_inferred: r.exposureInferred,
    config_key: r.configKeys,
    protocols: r.protocols,
    tls: r.tls,
    cite: r.cites.map((c) => ({ line: c.line, text: c.text })),
    notes: r.notes,
    override: r.overrides,
    source: { doc: r.source.doc, file: r.location.file, line: r.location.line },
  };
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

/** The documented exposure, as flows are checked against it (classify/exposure.ts). */
function exposureText(r: { exposure: readonly string[]; exposureInferred: boolean }): string {
  return r.exposure.join(', ') + (r.exposureInferred ? ' (inferred: the document does not say)' : '');
}
