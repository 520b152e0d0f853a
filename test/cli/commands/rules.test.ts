import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultGetRuleDirs, registerRulesCommands } from '../../../src/cli/commands/rules.js';
import { defaultRulesDir, loadRuleDirs } from '../../../src/rules/load.js';
import { fileYaml, ruleYaml } from '../../rules/rule-builders.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const shipped = loadRuleDirs([defaultRulesDir()]);
const nRules = shipped.rules.length;

async function run(...args: string[]): Promise<{ out: string[]; err: string[]; code: number | null }> {
  const out: string[] = [];
  const err: string[] = [];
  let code: number | null = null;
  const program = new Command('portsniff').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerRulesCommands(program, defaultGetRuleDirs, { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: (c) => (code = c) });
  await program.parseAsync(args, { from: 'user' });
  return { out, err, code };
}

describe('portsniff rules list', () => {
  it('prints a table of every rule and a summary line', async () => {
    const r = await run('rules', 'list');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(/^ID +PRODUCT +COMPONENT +PORTS +EXPOSURE +PROTOCOLS$/);
    expect(r.out).toHaveLength(nRules + 3);
    expect(r.out.at(-1)).toBe(`${nRules} rules from 5 files; * = exposure inferred, not stated by the source`);
    const row = (id: string): string => r.out.find((l) => l.startsWith(`${id} `))!.replace(/ +/g, ' ');
    expect(row('redis-enterprise.internode')).toBe('redis-enterprise.internode redis-enterprise cluster nodes tcp/3333-3341,3343-3344,36379,36380 internal -');
    expect(row('redis-enterprise.node-connectivity')).toBe('redis-enterprise.node-connectivity redis-enterprise cluster nodes icmp internal icmp');
    expect(row('gloo-mesh.gateway-proxy-https')).toBe('gloo-mesh.gateway-proxy-https gloo-mesh gateway-proxy tcp/443,8443 external* tls');
  });

  it('--products filters and says so', async () => {
    const r = await run('rules', 'list', '--products', 'zeebe');
    expect(r.out.slice(1, -2).map((l) => l.split(' ')[0])).toEqual(['zeebe.broker-command-api', 'zeebe.broker-monitoring', 'zeebe.gateway-grpc', 'zeebe.internal-api']);
    expect(r.out.at(-1)).toBe('4 rules (products: zeebe) from 5 files; * = exposure inferred, not stated by the source');
  });

  it('--json writes the rules with the YAML field names', async () => {
    const r = await run('rules', 'list', '--json', '--products', 'redis-enterprise,zeebe');
    const rules = JSON.parse(r.out.join('\n')) as Record<string, unknown>[];
    expect(rules.map((x) => x['product'])).toEqual([...Array(15).fill('redis-enterprise'), ...Array(4).fill('zeebe')]);
    expect(rules.find((x) => x['id'] === 'redis-enterprise.database-endpoints')).toMatchObject({
      transport: 'tcp', ports: ['10000-19999'], exposure: ['internal', 'external', 'active-active'], protocols: ['resp'], tls: 'unknown',
      cite: [{ line: 34 }, { line: 12 }],
    });
  });

  it('an unknown product is a usage error (exit 2)', async () => {
    const r = await run('rules', 'list', '--products', 'redis');
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual(["portsniff: unknown product 'redis' in --products (known: edgecomet, gloo-mesh, gloo-mesh-enterprise, kgateway, redis-enterprise, zeebe)"]);
  });
});

describe('portsniff rules check', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'portsniff-rules-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints a summary for the shipped rules', async () => {
    const r = await run('rules', 'check');
    expect(r).toEqual({ out: [`5 files, ${nRules} rules OK`], err: [], code: 0 });
  });

  it('prints every problem and exits 2', async () => {
    const dir = join(ROOT, 'fixtures/rules-bad/duplicate-ids');
    const r = await run('rules', 'check', dir);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(4);
    expect(r.err[0]).toBe(`${dir}/b.yaml:4:5: rule demo.web: duplicate rule id in one rules directory (first defined at ${dir}/a.yaml:5:5); override: only replaces rules of an earlier rules directory`);
    expect(r.err[3]).toBe('3 problems in rule files');
  });

  it('lists the overrides it applied', async () => {
    const file = join(tmp, 'local.yaml');
    writeFileSync(file, fileYaml([ruleYaml('edgecomet.redis', [6380], { override: 'edgecomet.redis' })]));
    const r = await run('rules', 'check', file);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`6 files, ${nRules} rules OK`);
    expect(r.out[1]).toMatch(/^ {2}edgecomet\.redis \(.*rules\/edgecomet\.yaml:\d+:5\) overridden by edgecomet\.redis \(.*local\.yaml:4:5\)$/);
  });
});

describe('portsniff rules explain', () => {
  it('an ambiguous port: every candidate, the decision and why', async () => {
    const r = await run('rules', 'explain', 'tcp/8443');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('tcp/8443: 5 rules match');
    const ids = r.out.slice(2, 7).map((l) => l.trim().split(/ {2,}/)[2]);
    expect(ids).toEqual(['gloo-mesh.gateway-proxy-https', 'gloo-mesh.gateway-validation', 'kgateway.gateway-proxy-https', 'kgateway.gloo-validation-8443', 'redis-enterprise.web-ui']);
    expect(r.out[7]).toBe('decision: ambiguous between gloo-mesh.gateway-proxy-https, gloo-mesh.gateway-validation, kgateway.gateway-proxy-https, kgateway.gloo-validation-8443, redis-enterprise.web-ui');
    expect(r.out[8]).toBe('why: 5 rules tie at the most specific tier (exact tcp/8443); portsniff never breaks ties. Narrow with --products (here: gloo-mesh, kgateway, redis-enterprise).');
    // Each candidate's documented exposure (what flows on the port are checked against).
    expect(r.out.slice(9)).toEqual([
      'exposure: gloo-mesh.gateway-proxy-https: external (inferred: the document does not say)',
      'exposure: gloo-mesh.gateway-validation: internal (inferred: the document does not say)',
      'exposure: kgateway.gateway-proxy-https: external (inferred: the document does not say)',
      'exposure: kgateway.gloo-validation-8443: internal (inferred: the document does not say)',
      'exposure: redis-enterprise.web-ui: internal, external',
    ]);
  });

  it('--products narrows it to one', async () => {
    const r = await run('rules', 'explain', 'tcp/8443', '--products', 'redis-enterprise');
    expect(r.out[0]).toBe('tcp/8443: 1 rule matches (products: redis-enterprise)');
    expect(r.out.at(-3)).toBe('decision: redis-enterprise.web-ui (redis-enterprise, management web UI: Secure (HTTPS) access to the management web UI)');
    expect(r.out.at(-1)).toBe('exposure: internal, external');
  });

  it('a port inside two ranges: the narrower wins, the other is a lower tier', async () => {
    const r = await run('rules', 'explain', 'tcp/10101');
    expect(r.out.map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'tcp/10101: 2 rules match',
      ' | TIER | SPECIFICITY | RULE | COMPONENT | PURPOSE | PROTOCOLS | TLS | SOURCE',
      ' | 1 | exact tcp/10101 | gloo-mesh-enterprise.console-api | gloo-fed-console | API Server | - | unknown | 001_8731a589dc88622b.txt:88',
      ' | 2 | range tcp/10000-19999 (width 10000) | redis-enterprise.database-endpoints | database endpoints | Database traffic; the cluster assigns database… | resp | unknown | 003_ee983c6a73cb0d56.txt:34',
      'decision: gloo-mesh-enterprise.console-api (gloo-mesh-enterprise, gloo-fed-console: API Server)',
      'why: exact tcp/10101 is the most specific match. 1 less specific rule in lower tiers loses to it.',
      'exposure: external (inferred: the document does not say)',
    ]);
  });

  it('no match, icmp, and a bad target', async () => {
    expect((await run('rules', 'explain', 'tcp/3342')).out).toEqual([
      'tcp/3342: no rule matches',
      'decision: none (unknown)',
      'why: no rule covers tcp/3342; a flow on it is classified by its other port if that one matches, else it stays unknown.',
    ]);
    const icmp = await run('rules', 'explain', 'icmp');
    expect(icmp.out.at(-3)).toBe('decision: redis-enterprise.node-connectivity (redis-enterprise, cluster nodes: Connectivity checking between nodes)');
    const bad = await run('rules', 'explain', 'tcp/70000');
    expect([bad.code, bad.err]).toEqual([2, ['portsniff: port must be between 1 and 65535, got 70000']]);
    const worse = await run('rules', 'explain', 'http/80');
    expect([worse.code, worse.err]).toEqual([2, ["portsniff: explain target must be PORT, tcp/PORT, udp/PORT, sctp/PORT or icmp, got 'http/80'"]]);
  });

  it('a bare port explains tcp/PORT, then udp/PORT, after a blank line', async () => {
    const both = await run('rules', 'explain', '53');
    expect(both.code).toBe(0);
    const tcp = await run('rules', 'explain', 'tcp/53');
    const udp = await run('rules', 'explain', 'udp/53');
    expect(both.out).toEqual([...tcp.out, '', ...udp.out]);
    expect(udp.out.at(-3)).toBe('decision: redis-enterprise.dns (redis-enterprise, DNS: DNS traffic)');
    const bad = await run('rules', 'explain', '0');
    expect([bad.code, bad.err]).toEqual([2, ['portsniff: port must be between 1 and 65535, got 0']]);
  });
});
