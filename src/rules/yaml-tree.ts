/**
 * Reading a parsed YAML document for the rule validator: where each node is (file:line:col), map
 * entries by key, and typed reads that record a problem instead of throwing.
 *
 * The yaml package is loaded on first use: a run whose rule files all come from the build-time
 * cache never loads (or JIT-compiles) the parser. yaml 2.x is CommonJS, so a synchronous require.
 */
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node as YamlNode, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { RuleProblem } from './problems.js';
import type { SourceLocation } from './types.js';

export type { YamlNode };

let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}
export const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
export const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);
export const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);
const isPair = (node: unknown): node is Pair => yaml().isPair(node);

/** A file's text parsed with positions, and its line counter (YAML errors are the caller's). */
export function parseYaml(text: string): { doc: Document; lc: LineCounter } {
  const { LineCounter: LineCounterClass, parseDocument } = yaml();
  const lc = new LineCounterClass();
  return { doc: parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }), lc };
}

/** A map entry's value and where it is (the value's position, or the key's for an empty value). */
export interface Entry {
  readonly value: YamlNode | null;
  readonly loc: SourceLocation;
}
/** A map's entries by key. */
export type Entries = Map<string, Entry>;

/** One file being validated: positions and the problem list. */
export class FileCtx {
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    readonly problems: RuleProblem[],
  ) {}

  /** Where `node` (a pair: its key) starts; `fallback` when it has no position. */
  loc(node: YamlNode | Pair | null | undefined, fallback: SourceLocation): SourceLocation {
    const target = isPair(node) ? node.key : node;
    const range = (target as { range?: [number, number, number] } | null | undefined)?.range;
    if (range === undefined) return fallback;
    const { line, col } = this.lc.linePos(range[0]);
    return { file: this.file, line, col };
  }

  /** The position of a character offset in the file. */
  at(offset: number): SourceLocation {
    const { line, col } = this.lc.linePos(offset);
    return { file: this.file, line, col };
  }

  add(l: SourceLocation, subject: string | null, problem: string): void {
    this.problems.push({ file: l.file, line: l.line, col: l.col, subject, problem });
  }
}

/**
 * A map's entries by key, reporting non-string keys and keys outside `allowed`. `scope` names the
 * map in messages ("the file", "source", "cite"); null inside a rule or erratum.
 */
export function entries(ctx: FileCtx, map: YAMLMap, allowed: readonly string[], ownLoc: SourceLocation, subject: string | null, scope: string | null): Entries {
  const inScope = scope === null ? '' : ` in ${scope}`;
  const out: Entries = new Map();
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

/** How a node reads in a message: "a map", "the string \"x\"", "number 0", ... */
export function describe(node: YamlNode | null): string {
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

/** A non-empty string value; null (with a problem when required or wrong) otherwise. */
export function str(ctx: FileCtx, m: Entries, key: string, ownLoc: SourceLocation, subject: string | null, required: boolean, scope?: string): string | null {
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
export function list(ctx: FileCtx, e: Entry, key: string, subject: string | null, allowSingle: boolean): YamlNode[] | null {
  if (isSeq(e.value)) return e.value.items as YamlNode[];
  if (allowSingle && isScalar(e.value)) return [e.value];
  ctx.add(e.loc, subject, `'${key}' must be a list, got ${describe(e.value)}`);
  return null;
}

/** An optional boolean; null when absent or wrong (with a problem). */
export function bool(ctx: FileCtx, m: Entries, key: string, subject: string | null): boolean | null {
  const e = m.get(key);
  if (e === undefined) return null;
  if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
  ctx.add(e.loc, subject, `'${key}' must be true or false, got ${describe(e.value)}`);
  return null;
}

/** The distinct values of a list whose items must be one of `allowed`. */
export function enumList<T extends string>(ctx: FileCtx, items: YamlNode[], listLoc: SourceLocation, subject: string, key: string, allowed: readonly T[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    const l = ctx.loc(item, listLoc);
    if (!(isScalar(item) && typeof item.value === 'string' && (allowed as readonly string[]).includes(item.value))) {
      const shown = isScalar(item) && typeof item.value === 'string' ? `'${item.value}'` : describe(item);
      ctx.add(l, subject, `${key} ${shown} is not one of ${allowed.join(', ')}`);
    } else if (out.includes(item.value as T)) {
      ctx.add(l, subject, `${key} '${item.value}' listed twice`);
    } else {
      out.push(item.value as T);
    }
  }
  return out;
}

/**
 * How problems name a list item: `<kind> <id>` when the map has a valid id (`idPattern`), else
 * `<kind> #<n>` (its 1-based position), so that every later problem can name it.
 */
export function subjectLabel(kind: 'rule' | 'erratum', node: YAMLMap, index: number, idPattern: RegExp): string {
  const idEntry = node.items.find((p) => isScalar(p.key) && p.key.value === 'id');
  const rawId = idEntry !== undefined && isScalar(idEntry.value) && typeof idEntry.value.value === 'string' ? idEntry.value.value : null;
  return `${kind} ${rawId !== null && idPattern.test(rawId) ? rawId : `#${index + 1}`}`;
}
