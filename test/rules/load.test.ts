import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, PortsniffError } from '../../src/errors.js';
import { defaultRulesDir, formatRuleProblem, loadRuleDirs, loadRuleLayers } from '../../src/rules/load.js';
import { errorOf, fileYaml, ruleYaml } from './rule-builders.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BAD = 'fixtures/rules-bad';

/** Load with repository-relative paths (what the expected texts contain), whatever the cwd. */
function loadRel(dirs: string[]): void {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    loadRuleDirs(dirs);
  } finally {
    process.chdir(cwd);
  }
}

describe('fixtures/rules-bad: every problem, with file:line:col and rule id, in one error', () => {
  const cases: [string, string[]][] = [
    ['schema-errors', [`${BAD}/schema-errors.yaml`]],
    ['yaml-syntax', [`${BAD}/yaml-syntax.yaml`]],
    ['file-level', [`${BAD}/file-level.yaml`]],
    ['not-a-map', [`${BAD}/not-a-map.yaml`]],
    ['duplicate-ids', [`${BAD}/duplicate-ids`]],
    ['bad-override', [`${BAD}/bad-override/base`, `${BAD}/bad-override/user`]],
  ];
  for (const [name, dirs] of cases) {
    it(`${name} matches ${name}.errors.txt exactly`, () => {
      const expected = readFileSync(join(ROOT, BAD, `${name}.errors.txt`), 'utf8');
      const err = errorOf(() => loadRel(dirs));
      expect(err).toBeInstanceOf(PortsniffError);
      expect(err.code).toBe(ErrorCode.RuleFile);
      expect(`${err.message}\n`).toBe(expected);
      // The message is exactly the problems, formatted.
      expect(err.message.split('\n').slice(1)).toEqual(err.problems.map(formatRuleProblem));
    });
  }

  it('schema-errors: every rule with a problem is named, each problem at its own position', () => {
    const err = errorOf(() => loadRel([`${BAD}/schema-errors.yaml`]));
    const lines = err.message.split('\n');
    expect(lines[0]).toBe(`rule files have ${err.problems.length} problems:`);
    expect(err.problems.length).toBe(28);
    for (const subject of ['rule demo.unknown-key', 'rule demo.bad-ports', 'rule demo.bad-enums', 'rule other.wrong-prefix', 'rule demo.icmp-with-ports', 'rule #6', 'rule #7', 'erratum demo.erratum']) {
      expect(err.problems.some((p) => p.subject === subject), subject).toBe(true);
    }
    // Each bad port item on line 23 is reported at its own column.
    const cols = err.problems.filter((p) => p.subject === 'rule demo.bad-ports').map((p) => `${p.line}:${p.col}`);
    expect(cols).toEqual(['23:13', '23:20', '23:31', '23:42', '23:61', '23:64', '23:69']);
    expect(lines).toContain(`${BAD}/schema-errors.yaml:14:5: rule demo.unknown-key: unknown key 'expsure' (allowed: id, product, component, transport, ports, purpose, exposure, exposure_inferred, config_key, protocols, tls, cite, notes, override)`);
  });

  it('several bad files in one directory come out in one error, in file order', () => {
    const err = errorOf(() => loadRel([BAD]));
    const files = [...new Set(err.problems.map((p) => p.file))];
    expect(files).toEqual([`${BAD}/file-level.yaml`, `${BAD}/not-a-map.yaml`, `${BAD}/schema-errors.yaml`, `${BAD}/yaml-syntax.yaml`]);
    expect(err.problems.length).toBe(5 + 1 + 28 + 3);
  });
});

describe('loadRuleDirs', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portsniff-rules-'));
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('defaultRulesDir() is the repository rules/ directory and loads cleanly', () => {
    expect(relative(ROOT, defaultRulesDir()).replace(/\/$/, '')).toBe('rules');
    const set = loadRuleDirs([defaultRulesDir()]);
    expect(set.files.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1))).toEqual([
      'edgecomet.yaml', 'gloo-mesh.yaml', 'kgateway.yaml', 'redis-enterprise.yaml', 'zeebe.yaml',
    ]);
    const ids = set.rules.map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a missing directory and an empty directory are problems, reported together', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const missing = join(tmp, 'missing');
    const err = errorOf(() => loadRuleDirs([missing, empty]));
    expect(err.message).toBe([
      'rule files have 2 problems:',
      `${missing}:1:1: cannot read rules directory: no such file or directory`,
      `${empty}:1:1: no rule files (*.yaml, *.yml) in this directory`,
    ].join('\n'));
    expect(loadRuleDirs([empty], { allowEmpty: true }).rules).toEqual([]);
  });

  it('reads *.yaml and *.yml, ignores other files, and accepts a file path as a directory', () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), fileYaml([ruleYaml('a.one', [1000])]));
    writeFileSync(join(dir, 'b.yml'), fileYaml([ruleYaml('b.two', [2000])]));
    writeFileSync(join(dir, 'README.md'), '# not rules');
    expect(loadRuleDirs([dir]).rules.map((r) => r.id)).toEqual(['a.one', 'b.two']);
    expect(loadRuleDirs([join(dir, 'b.yml')]).rules.map((r) => r.id)).toEqual(['b.two']);
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
  });
});

describe('overrides: explicit, and only from a later directory', () => {
  const base = { name: 'base', files: [{ path: 'base/x.yaml', text: fileYaml([ruleYaml('x.redis', [6379]), ruleYaml('x.web', [8080])]) }] };

  it('override with the same id replaces the earlier rule', () => {
    const user = { name: 'user', files: [{ path: 'user/u.yaml', text: fileYaml([ruleYaml('x.redis', [6380], { override: 'x.redis' })]) }] };
    const set = loadRuleLayers([base, user]);
    const redis = set.rules.find((r) => r.id === 'x.redis')!;
    expect(redis.ports).toEqual([{ lo: 6380, hi: 6380 }]);
    expect(redis.location.file).toBe('user/u.yaml');
    expect(set.overridden.map((o) => [o.rule.id, o.rule.location.file, o.by.id])).toEqual([['x.redis', 'base/x.yaml', 'x.redis']]);
    expect(set.rules.map((r) => r.id)).toEqual(['x.redis', 'x.web']);
  });

  it('override with a different id removes the target and adds the new rule', () => {
    const user = { name: 'user', files: [{ path: 'user/u.yaml', text: fileYaml([ruleYaml('mine.cache', [6390], { override: 'x.redis' })]) }] };
    const set = loadRuleLayers([base, user]);
    expect(set.rules.map((r) => r.id)).toEqual(['mine.cache', 'x.web']);
  });

  it('a repeated id without override is an error that says how to override', () => {
    const user = { name: 'user', files: [{ path: 'user/u.yaml', text: fileYaml([ruleYaml('x.redis', [6380])]) }] };
    const err = errorOf(() => loadRuleLayers([base, user]));
    expect(err.problems.map(formatRuleProblem)).toEqual([
      "user/u.yaml:4:5: rule x.redis: duplicate rule id (first defined at base/x.yaml:4:5); to replace it from a later directory, add 'override: x.redis'",
    ]);
  });

  it('the order of directories decides: the same override the other way round is an error', () => {
    const user = { name: 'user', files: [{ path: 'user/u.yaml', text: fileYaml([ruleYaml('x.redis', [6380], { override: 'x.redis' })]) }] };
    const err = errorOf(() => loadRuleLayers([user, base]));
    expect(err.problems.map((p) => p.subject)).toEqual(['rule x.redis']);
    expect(err.problems[0]!.problem).toMatch(/^override: no rule 'x.redis' in an earlier rules directory/);
  });

  it('an override whose own id collides with another earlier rule is an error', () => {
    const user = { name: 'user', files: [{ path: 'user/u.yaml', text: fileYaml([ruleYaml('x.web', [8081], { override: 'x.redis' })]) }] };
    const err = errorOf(() => loadRuleLayers([base, user]));
    expect(err.problems.map((p) => [p.subject, p.problem.slice(0, 17)])).toEqual([['rule x.web', 'duplicate rule id']]);
  });
});
