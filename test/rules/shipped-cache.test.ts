/**
 * The build-time cache of the shipped rules (src/rules/rules-cache.ts, build-cache.ts): a file whose
 * bytes hash as cached is not parsed, anything else parses, and the RuleSet never depends on which.
 * Every test points the cache at a temporary directory and cache file.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRulesCache } from '../../src/rules/build-cache.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import type { LoadOptions, LoadStats } from '../../src/rules/load.js';
import { defaultRulesCachePath, readRulesCache, RULES_CACHE_VERSION } from '../../src/rules/rules-cache.js';
import type { RuleSet } from '../../src/rules/types.js';
import { errorOf, fileYaml, ruleYaml } from './rule-builders.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED = defaultRulesDir();
const SHIPPED_NAMES = readdirSync(SHIPPED).filter((n) => /\.ya?ml$/.test(n)).sort();

let tmp = '';
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'portsniff-rules-cache-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function fresh(prefix: string): string {
  return join(tmp, `${prefix}-${n++}`);
}

/** A copy of the shipped rules in a temp dir, with a cache built for that copy. */
function copyWithCache(): { dir: string; cache: string } {
  const dir = fresh('rules');
  cpSync(SHIPPED, dir, { recursive: true });
  const cache = fresh('cache') + '.json';
  expect(buildRulesCache(dir, cache).cached).toEqual(SHIPPED_NAMES);
  return { dir, cache };
}

function load(dirs: string[], cache: LoadOptions['cache']): { set: RuleSet; stats: LoadStats } {
  const stats: LoadStats = { parsed: [], cached: [] };
  return { set: loadRuleDirs(dirs, { cache, stats }), stats };
}

/** The reference: every file parsed from YAML. */
function parsed(dirs: string[]): RuleSet {
  const { set, stats } = load(dirs, null);
  expect(stats.cached).toEqual([]);
  return set;
}

describe('cache hit', () => {
  it('the shipped rules from the cache are deep-equal to the parsed ones, key order and shared objects included', () => {
    const cache = fresh('cache') + '.json';
    expect(buildRulesCache(SHIPPED, cache)).toEqual({ cached: SHIPPED_NAMES, skipped: [] });
    const { set, stats } = load([SHIPPED], { dir: SHIPPED, path: cache });
    expect(stats.parsed).toEqual([]);
    expect(stats.cached).toEqual(SHIPPED_NAMES.map((name) => join(SHIPPED, name)));
    const reference = parsed([SHIPPED]);
    expect(set).toEqual(reference);
    expect(JSON.stringify(set)).toBe(JSON.stringify(reference)); // same key order too (rules list --json)
    for (const f of set.files) for (const r of f.rules) expect(r.source).toBe(f.source);
    // Locations (shown by rules explain and in problems) are real paths and lines.
    const zeebe = set.rules.find((r) => r.id === 'zeebe.gateway-grpc')!;
    expect(zeebe.location).toEqual({ file: join(SHIPPED, 'zeebe.yaml'), line: 10, col: 5 });
  });

  it('paths follow the directory as the caller spells it, not as it was when the cache was built', () => {
    const cache = fresh('cache') + '.json';
    buildRulesCache(SHIPPED, cache);
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      for (const spelled of ['rules', 'rules/', './rules', relative(ROOT, SHIPPED)]) {
        const { set, stats } = load([spelled], { dir: SHIPPED, path: cache });
        expect(stats.cached.length, spelled).toBe(SHIPPED_NAMES.length);
        expect(set, spelled).toEqual(parsed([spelled]));
        expect(set.rules[0]!.location.file.startsWith('rules/'), spelled).toBe(true);
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it('a directory reached through another path to the same realpath is still the cached one', () => {
    const { dir, cache } = copyWithCache();
    const { stats } = load([join(dir, '..', relative(join(dir, '..'), dir), '.')], { dir, path: cache });
    expect(stats.parsed).toEqual([]);
    expect(stats.cached.length).toBe(SHIPPED_NAMES.length);
  });
});

describe('stale, broken or missing cache: that file parses, never an error', () => {
  it('an edited file parses again and the result reflects the edit; the others stay cached', () => {
    const { dir, cache } = copyWithCache();
    const path = join(dir, 'zeebe.yaml');
    // One more line at the top moves every location in the file, and the purpose changes.
    const text = readFileSync(path, 'utf8');
    const edited = `# edited\n${text.replace('purpose: Gateway API for clients/workers (gRPC Gateway)', 'purpose: Edited purpose')}`;
    expect(edited).toContain('Edited purpose');
    writeFileSync(path, edited);

    const { set, stats } = load([dir], { dir, path: cache });
    expect(stats.parsed).toEqual([path]);
    expect(stats.cached).toEqual(SHIPPED_NAMES.filter((x) => x !== 'zeebe.yaml').map((x) => join(dir, x)));
    const rule = set.rules.find((r) => r.id === 'zeebe.gateway-grpc')!;
    expect(rule.purpose).toBe('Edited purpose');
    expect(rule.location).toEqual({ file: path, line: 11, col: 5 });
    expect(set).toEqual(parsed([dir]));
  });

  it('a one-byte change (same length) is caught by the hash', () => {
    const { dir, cache } = copyWithCache();
    const path = join(dir, 'kgateway.yaml');
    const bytes = readFileSync(path);
    const i = bytes.indexOf('\n#') >= 0 ? bytes.indexOf('\n#') + 2 : 1; // inside a comment
    bytes[i] = bytes[i] === 0x78 ? 0x79 : 0x78;
    writeFileSync(path, bytes);
    const { stats } = load([dir], { dir, path: cache });
    expect(stats.parsed).toEqual([path]);
  });

  it('a file that became invalid reports exactly the problems it reports without the cache', () => {
    const { dir, cache } = copyWithCache();
    const path = join(dir, 'redis-enterprise.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('transport: tcp', 'transport: tcpp').replace(/exposure: \[[^\]]*\]/, 'exposure: [everyone]'));
    const withCache = errorOf(() => loadRuleDirs([dir], { cache: { dir, path: cache } }));
    const without = errorOf(() => loadRuleDirs([dir], { cache: null }));
    expect(withCache.message).toBe(without.message);
    expect(withCache.problems.length).toBe(2);
    expect(withCache.problems.every((p) => p.file === path && p.subject?.startsWith('rule redis-enterprise.'))).toBe(true);
  });

  it('cross-file problems among cached files are still found (duplicate id in a new file)', () => {
    const { dir, cache } = copyWithCache();
    const first = load([dir], { dir, path: cache }).set.rules[0]!;
    writeFileSync(join(dir, 'zz-dup.yaml'), fileYaml([ruleYaml(first.id, [4242])]));
    const withCache = errorOf(() => loadRuleDirs([dir], { cache: { dir, path: cache } }));
    const without = errorOf(() => loadRuleDirs([dir], { cache: null }));
    expect(withCache.message).toBe(without.message);
    expect(withCache.message).toContain(`rule ${first.id}: duplicate rule id in one rules directory (first defined at ${first.location.file}:`);
  });

  it('an added file is loaded (parsed) and a deleted file is gone', () => {
    const { dir, cache } = copyWithCache();
    const added = join(dir, 'added.yml');
    writeFileSync(added, fileYaml([ruleYaml('added.one', [4242])]));
    unlinkSync(join(dir, 'edgecomet.yaml'));
    const { set, stats } = load([dir], { dir, path: cache });
    expect(stats.parsed).toEqual([added]);
    expect(stats.cached.length).toBe(SHIPPED_NAMES.length - 1);
    expect(set.rules.some((r) => r.id === 'added.one')).toBe(true);
    expect(set.rules.some((r) => r.product === 'edgecomet')).toBe(false);
    expect(set.files.map((f) => f.path)).toEqual([added, ...SHIPPED_NAMES.filter((x) => x !== 'edgecomet.yaml').map((x) => join(dir, x))]);
    expect(set).toEqual(parsed([dir]));
  });

  it('a corrupt, truncated, empty, foreign-version, foreign-loader or missing cache parses everything', () => {
    const { dir, cache } = copyWithCache();
    const good = readFileSync(cache, 'utf8');
    const data = JSON.parse(good) as { version: number; loader: string; files: { file: unknown }[] };
    const reference = parsed([dir]);
    const variants: [string, string | null][] = [
      ['truncated', good.slice(0, good.length >> 1)],
      ['empty', ''],
      ['not json', 'rules: yes\n'],
      ['json null', 'null'],
      ['other version', JSON.stringify({ ...data, version: RULES_CACHE_VERSION + 1 })],
      ['other loader', JSON.stringify({ ...data, loader: '0'.repeat(64) })],
      ['entry without a file', JSON.stringify({ ...data, files: data.files.map((e, i) => (i === 0 ? { ...e, file: null } : e)) })],
      ['files not a list', JSON.stringify({ ...data, files: {} })],
      ['missing', null],
    ];
    for (const [what, content] of variants) {
      if (content === null) rmSync(cache, { force: true });
      else writeFileSync(cache, content);
      const { set, stats } = load([dir], { dir, path: cache });
      expect(stats.cached, what).toEqual([]);
      expect(stats.parsed.length, what).toBe(SHIPPED_NAMES.length);
      expect(set, what).toEqual(reference);
    }
  });

  it('the default cache (beside the module: src/rules under vitest) is never written by the tests and a miss is harmless', () => {
    expect(defaultRulesCachePath()).toBe(fileURLToPath(new URL('../../src/rules/shipped-rules.cache.json', import.meta.url)));
    expect(readRulesCache(defaultRulesCachePath())).toBeNull();
    const stats: LoadStats = { parsed: [], cached: [] };
    expect(loadRuleDirs([SHIPPED], { stats })).toEqual(parsed([SHIPPED]));
    expect(stats.parsed.length).toBe(SHIPPED_NAMES.length);
  });
});

describe('only the cached directory itself is served from the cache', () => {
  it('a user --rules directory with the same file names and bytes parses', () => {
    const { dir, cache } = copyWithCache();
    const user = fresh('user');
    cpSync(dir, user, { recursive: true });
    const { set, stats } = load([user], { dir, path: cache });
    expect(stats.cached).toEqual([]);
    expect(stats.parsed.length).toBe(SHIPPED_NAMES.length);
    expect(set).toEqual(parsed([user]));
  });

  it('shipped plus a user directory: shipped files cached, user files parsed, overrides applied as without the cache', () => {
    const cache = fresh('cache') + '.json';
    buildRulesCache(SHIPPED, cache);
    const target = parsed([SHIPPED]).rules.find((r) => r.product === 'redis-enterprise')!;
    const user = fresh('user');
    cpSync(SHIPPED, user, { recursive: true, filter: (src) => !/\.ya?ml$/.test(src) });
    writeFileSync(join(user, 'mine.yaml'), fileYaml([ruleYaml('mycorp.redis', [7777], { override: target.id })]));
    const { set, stats } = load([SHIPPED, user], { dir: SHIPPED, path: cache });
    expect(stats.parsed).toEqual([join(user, 'mine.yaml')]);
    expect(stats.cached.length).toBe(SHIPPED_NAMES.length);
    expect(set).toEqual(parsed([SHIPPED, user]));
    expect(set.overridden.map((o) => `${o.rule.id}->${o.by.id}`)).toEqual([`${target.id}->mycorp.redis`]);
  });

  it('a single shipped file given as a path parses', () => {
    const cache = fresh('cache') + '.json';
    buildRulesCache(SHIPPED, cache);
    const file = join(SHIPPED, 'zeebe.yaml');
    const { stats } = load([file], { dir: SHIPPED, path: cache });
    expect(stats).toEqual({ parsed: [file], cached: [] });
  });
});

describe('build', () => {
  it('a file with problems is left out of the cache, and at load time reports them as usual', () => {
    const dir = fresh('rules');
    cpSync(SHIPPED, dir, { recursive: true });
    writeFileSync(join(dir, 'bad.yaml'), fileYaml([ruleYaml('bad.one', [0])]));
    const cache = fresh('cache') + '.json';
    const result = buildRulesCache(dir, cache);
    expect(result.cached).toEqual(SHIPPED_NAMES);
    expect(result.skipped.map((s) => s.name)).toEqual(['bad.yaml']);
    expect(result.skipped[0]!.problems.join('\n')).toContain('rule bad.one: port 0 is not a port number (1-65535)');
    expect([...readRulesCache(cache)!.keys()]).toEqual(SHIPPED_NAMES);
    const err = errorOf(() => loadRuleDirs([dir], { cache: { dir, path: cache } }));
    expect(err.message).toBe(errorOf(() => loadRuleDirs([dir], { cache: null })).message);
  });

  it('the cache stores no absolute paths (the installed package may live anywhere)', () => {
    const cache = fresh('cache') + '.json';
    buildRulesCache(SHIPPED, cache);
    const text = readFileSync(cache, 'utf8');
    expect(text).not.toContain(SHIPPED);
    expect(text).not.toContain(ROOT);
  });
});

describe('a load served from the cache does not load the yaml package', () => {
  // A fresh Node process (tsx for the TypeScript sources), so nothing else has loaded yaml yet.
  function probe(cache: string | null): { cached: number; parsed: number; rules: number; yamlLoaded: boolean } {
    const script = `
      import { createRequire } from 'node:module';
      const { loadRuleDirs } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/rules/load.ts')).href)});
      const stats = { parsed: [], cached: [] };
      const dir = ${JSON.stringify(SHIPPED)};
      const cache = ${JSON.stringify(cache)};
      const set = loadRuleDirs([dir], { cache: cache === null ? null : { dir, path: cache }, stats });
      const yamlLoaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/yaml/'));
      console.log(JSON.stringify({ cached: stats.cached.length, parsed: stats.parsed.length, rules: set.rules.length, yamlLoaded }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as { cached: number; parsed: number; rules: number; yamlLoaded: boolean };
  }

  it('with a valid cache yaml is never required; forced parsing does require it (the probe works)', () => {
    const cache = fresh('cache') + '.json';
    buildRulesCache(SHIPPED, cache);
    const hit = probe(cache);
    const miss = probe(null);
    expect(hit).toEqual({ cached: SHIPPED_NAMES.length, parsed: 0, rules: miss.rules, yamlLoaded: false });
    expect(miss).toMatchObject({ cached: 0, parsed: SHIPPED_NAMES.length, yamlLoaded: true });
  });
});
