/**
 * Rule directories -> RuleSet: reading the directories (and the build-time cache of the shipped
 * ones), then each file through parse-file.ts and the set through resolve.ts. Every problem of every
 * file is reported at once as `file:line:col: rule <id>: <problem>` in one RuleFileError.
 *
 * The shipped rules directory is served from a build-time cache (rules-cache.ts) file by file,
 * keyed by the SHA-256 of each file's bytes: an unchanged file is not parsed (and the yaml package
 * is not even loaded); a changed, new or uncached file parses as usual. Other directories always
 * parse. Problems only ever come from parsing, so error messages do not depend on the cache.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRuleFile } from './parse-file.js';
import type { RuleProblem } from './problems.js';
import { resolveRuleSet } from './resolve.js';
import { defaultRulesCachePath, fromCachedFile, readRulesCache, sha256Hex } from './rules-cache.js';
import type { RulesCacheEntry } from './rules-cache.js';
import type { RuleFile, RuleSet } from './types.js';

// Problems and the error are defined in problems.ts; the loaders' callers get them from here.
export { formatRuleProblem, RuleFileError, type RuleProblem } from './problems.js';

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

/** Parses what is not cached, then resolves the set (throws RuleFileError with every problem). */
function buildRuleSet(layers: readonly LoadLayer[], problems: RuleProblem[]): RuleSet {
  const parsed = layers.map((layer) => ({
    name: layer.name,
    files: layer.files.map((f) => ({ path: f.path, file: 'parsed' in f ? f.parsed : parseRuleFile(f.path, f.text, problems) })),
  }));
  return resolveRuleSet(parsed, problems);
}
