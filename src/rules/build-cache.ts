/**
 * Writes the build-time cache of the shipped rules (rules-cache.ts). Run by `npm run build` after
 * `tsc`:
 *
 *   node dist/rules/build-cache.js [CACHE_PATH]     default: dist/rules/shipped-rules.cache.json
 *
 * Each *.yaml / *.yml file of the shipped rules directory is parsed and validated exactly as
 * load.ts does; a file that validates without problems is cached with the SHA-256 of its bytes. A
 * file with problems is left out (with a warning): at run time it parses and reports its problems
 * as before. Never fails the build over rule content.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRulesDir, formatRuleProblem, parseRuleText } from './load.js';
import { defaultRulesCachePath, sha256Hex, toCachedFile, writeRulesCache } from './rules-cache.js';
import type { RulesCacheEntry } from './rules-cache.js';

export interface BuildCacheResult {
  /** File names cached. */
  readonly cached: string[];
  /** File names left out, each with its problems formatted. */
  readonly skipped: { readonly name: string; readonly problems: string[] }[];
}

/** Builds the cache for the rule files of `dir` (the shipped rules by default) and writes it to `cachePath`. */
export function buildRulesCache(dir: string = defaultRulesDir(), cachePath: string = defaultRulesCachePath()): BuildCacheResult {
  const names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  const entries: RulesCacheEntry[] = [];
  const result: BuildCacheResult = { cached: [], skipped: [] };
  for (const name of names) {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    const { file, problems } = parseRuleText(path, bytes.toString('utf8'));
    if (file === null || problems.length > 0) {
      result.skipped.push({ name, problems: problems.map(formatRuleProblem) });
      continue;
    }
    entries.push({ name, sha256: sha256Hex(bytes), file: toCachedFile(file, name) });
    result.cached.push(name);
  }
  writeRulesCache(cachePath, entries);
  return result;
}

function main(argv: readonly string[]): number {
  const out = argv[0];
  if (out === undefined && import.meta.url.endsWith('.ts')) {
    // The default path is next to this module: under src/ that would write into the repository.
    process.stderr.write('build-cache: run the built dist/rules/build-cache.js, or give the cache path\n');
    return 2;
  }
  const cachePath = out ?? defaultRulesCachePath();
  const { cached, skipped } = buildRulesCache(defaultRulesDir(), cachePath);
  for (const s of skipped) {
    process.stderr.write(`build-cache: warning: ${s.name} not cached (it will be parsed at run time):\n${s.problems.map((p) => `  ${p}\n`).join('')}`);
  }
  process.stdout.write(`build-cache: ${cached.length} shipped rule file${cached.length === 1 ? '' : 's'} cached in ${cachePath}\n`);
  return 0;
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
