/**
 * The build-time cache of the shipped rules (dist/rules/shipped-rules.cache.json, written by
 * build-cache.ts after `tsc` in `npm run build`). The YAML files stay the only source of truth:
 * the cache holds, per file of the shipped rules directory, the SHA-256 of the file's exact bytes
 * and the RuleFile the loader (parse-file.ts) built from them. load.ts serves a file from the cache only when
 * its bytes still hash the same; anything else (no cache, unreadable or corrupt cache, another
 * format version or loader, a changed or new file) parses that file's YAML as before. The cache
 * never produces an error.
 *
 * Only files that validated without a single problem are cached, so every problem message still
 * comes from the YAML path. Paths are not stored: a cached RuleFile is stored with its file name
 * and gets the real path (as the caller spelled the directory) back when it is loaded.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Erratum, Rule, RuleFile, SourceLocation } from './types.js';

/** Bump when the cache layout or the meaning of a cached RuleFile changes. */
export const RULES_CACHE_VERSION = 1;

/** One cached rule file. */
export interface RulesCacheEntry {
  /** File name inside the rules directory (`zeebe.yaml`). */
  readonly name: string;
  /** SHA-256 (hex) of the file's exact bytes. */
  readonly sha256: string;
  /** What parse-file.ts built from the file, with `path` and every `location.file` set to `name`. */
  readonly file: RuleFile;
}

export interface RulesCacheData {
  readonly version: number;
  /** loaderFingerprint() of the code that built the entries. */
  readonly loader: string;
  readonly files: readonly RulesCacheEntry[];
}

/**
 * Where the cache sits: dist/rules/ after a build (never written under src/). The path goes through
 * ../rules/ so that it holds from dist/rules/ and from the CLI bundle's chunks in dist/cli/.
 */
export function defaultRulesCachePath(): string {
  return fileURLToPath(new URL('../rules/shipped-rules.cache.json', import.meta.url));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let fingerprint: string | undefined;

/**
 * Identifies the code that turns YAML into RuleFiles: the bytes of the rules modules (load,
 * parse-file, yaml-tree, schema, types, protocol tags, this file; .js under dist/, .ts under
 * tsx/vitest) and the yaml package version.
 * A `tsc` without the cache step, or a yaml upgrade, therefore makes an old cache stale instead of
 * serving results the current validator might not produce.
 */
export function loaderFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const h = createHash('sha256');
  h.update(`portsniff-rules-cache ${RULES_CACHE_VERSION}\n`);
  // Every module that decides what a file's RuleFile is (a module missing here could change the
  // validator's results while an old cache is still served).
  for (const mod of ['load', 'parse-file', 'yaml-tree', 'schema', 'rules-cache', 'types', 'protocol-tags']) {
    h.update(`${mod}${ext}\n`);
    // Through ../rules/ as above: bundled, this code reads the same build's dist/rules/ modules.
    h.update(readFileSync(new URL(`../rules/${mod}${ext}`, import.meta.url)));
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('yaml/package.json');
    h.update(`yaml ${(JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown }).version as string}\n`);
  } catch {
    h.update('yaml ?\n');
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}

/**
 * The cache at `path` as name -> entry, or null when it is missing, unreadable, corrupt, of
 * another version or built by other loader code (all of which just mean: parse the YAML).
 */
export function readRulesCache(path: string): Map<string, RulesCacheEntry> | null {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as RulesCacheData;
    if (data === null || typeof data !== 'object' || data.version !== RULES_CACHE_VERSION) return null;
    if (data.loader !== loaderFingerprint() || !Array.isArray(data.files)) return null;
    const out = new Map<string, RulesCacheEntry>();
    for (const e of data.files) {
      if (typeof e?.name !== 'string' || typeof e.sha256 !== 'string' || !isCachedFile(e.file)) return null;
      out.set(e.name, e);
    }
    return out;
  } catch {
    return null;
  }
}

function isCachedFile(f: unknown): f is RuleFile {
  const r = f as RuleFile | null;
  return typeof r === 'object' && r !== null && r.schema === 1 && typeof r.source === 'object' && r.source !== null
    && Array.isArray(r.rules) && Array.isArray(r.errata);
}

/** A RuleFile as stored: `path` and every location's `file` become the file name. */
export function toCachedFile(file: RuleFile, name: string): RuleFile {
  return relocate(file, name);
}

/**
 * A cached RuleFile as parse-file.ts would have built it for `path`: same key order, same values,
 * and (as there) every rule shares the file's `source` object.
 */
export function fromCachedFile(file: RuleFile, path: string): RuleFile {
  return relocate(file, path);
}

function relocate(file: RuleFile, path: string): RuleFile {
  const loc = (l: SourceLocation): SourceLocation => ({ ...l, file: path });
  const source = { ...file.source };
  return {
    ...file,
    path,
    source,
    rules: file.rules.map((r): Rule => ({ ...r, source, location: loc(r.location) })),
    errata: file.errata.map((e): Erratum => ({ ...e, location: loc(e.location) })),
  };
}

/** Writes the cache atomically (temporary file, then rename), so a reader never sees half of it. */
export function writeRulesCache(path: string, files: readonly RulesCacheEntry[]): void {
  const data: RulesCacheData = { version: RULES_CACHE_VERSION, loader: loaderFingerprint(), files };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data)}\n`);
  renameSync(tmp, path);
}
