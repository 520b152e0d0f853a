/**
 * The built CLI serves the shipped rules from the cache `npm run build` writes
 * (dist/rules/shipped-rules.cache.json, src/rules/build-cache.ts), so a run never loads the yaml
 * package unless a user --rules directory needs parsing. A preload script reports, at exit, whether
 * yaml was ever required. (Cache behaviour in detail: test/rules/shipped-cache.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES_CACHE_VERSION } from '../../src/rules/rules-cache.js';
import { fileYaml, ruleYaml } from '../rules/rule-builders.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const CACHE = join(ROOT, 'dist/rules/shipped-rules.cache.json');
const MARK = 'rules-cache-probe: yaml loaded=';

let dir = '';
let probe = '';

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'portsniff-rules-cache-cli-'));
  probe = join(dir, 'probe.cjs');
  writeFileSync(probe, `process.on('exit', () => {
  const loaded = Object.keys(require.cache).some((k) => k.includes('/node_modules/yaml/'));
  process.stderr.write('\\n${MARK}' + loaded + '\\n');
});
`);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function cli(args: readonly string[]): { code: number | null; stdout: string; stderr: string; yamlLoaded: boolean } {
  const r = spawnSync(process.execPath, ['-r', probe, MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  const m = new RegExp(`${MARK}(true|false)`).exec(r.stderr);
  if (m === null) throw new Error(`no probe line in stderr:\n${r.stderr}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(m[0], '').trim(), yamlLoaded: m[1] === 'true' };
}

describe('the built CLI and the shipped rules cache', () => {
  it('npm run build wrote the cache, one entry per shipped rule file', () => {
    expect(existsSync(CACHE), `${CACHE} is missing: npm run build runs node dist/rules/build-cache.js after tsc`).toBe(true);
    const data = JSON.parse(readFileSync(CACHE, 'utf8')) as { version: number; files: { name: string }[] };
    expect(data.version).toBe(RULES_CACHE_VERSION);
    expect(data.files.map((f) => f.name)).toEqual(['edgecomet.yaml', 'gloo-mesh.yaml', 'kgateway.yaml', 'redis-enterprise.yaml', 'zeebe.yaml']);
  });

  it('rules list / check / explain and replay never load yaml for the shipped rules', () => {
    const list = cli(['rules', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.yamlLoaded).toBe(false);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(0);
    const check = cli(['rules', 'check']);
    expect(check.code).toBe(0);
    expect(check.yamlLoaded).toBe(false);
    const explain = cli(['rules', 'explain', 'tcp/26500']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('004_1bc6af46bdd1c035.txt:15');
    expect(explain.yamlLoaded).toBe(false);
    expect(cli(['replay', join(ROOT, 'fixtures/captures/demo.pcap'), '--json', '--workers', '0']).yamlLoaded).toBe(false);
  });

  it('a user --rules directory is parsed (the probe sees yaml) and adds to the cached shipped rules', () => {
    const user = join(dir, 'user');
    mkdirSync(user, { recursive: true });
    writeFileSync(join(user, 'mine.yaml'), fileYaml([ruleYaml('mycorp.thing', [4242])]));
    const shipped = cli(['rules', 'list', '--json']);
    const both = cli(['rules', 'list', '--json', '--rules', user]);
    expect(both.code).toBe(0);
    expect(both.yamlLoaded).toBe(true);
    const ids = (s: string): string[] => (JSON.parse(s) as { id: string }[]).map((r) => r.id);
    expect(ids(both.stdout).filter((id) => id !== 'mycorp.thing')).toEqual(ids(shipped.stdout));
    expect(ids(both.stdout)).toContain('mycorp.thing');
  });
});
