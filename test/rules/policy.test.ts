/**
 * The --policy file loader: the fleet example loads into plain data; every bad case reports all of
 * its problems at once with file:line:col (fixtures/policy-bad/*.errors.txt); the committed JSON
 * Schema is what the zod schema produces; documented examples validate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, parsePolicyText, PolicyFileError } from '../../src/rules/policy.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { policySchemaText, POLICY_SCHEMA_PATH } from '../../scripts/policy-schema.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rules = loadRuleDirs([defaultRulesDir()]);

describe('policy files', () => {
  it('fixtures/policy/fleet.yaml loads as plain data with positions', () => {
    const spec = loadPolicyFile('fixtures/policy/fleet.yaml', rules, { monitoringHosts: false });
    expect(spec.networks.map((n) => [n.name, n.prefixes])).toEqual([
      ['monitoring', ['10.90.0.0/24']],
      ['cluster-nodes', ['10.20.0.0/28']],
      ['zeebe', ['10.42.0.0/27']],
      ['gateways', ['10.40.1.0/24']],
      ['trusted-clients', ['10.20.5.0/24']],
    ]);
    expect(spec.entries.map((e) => [e.product, e.rules, e.from, `${e.location.line}:${e.location.col}`])).toEqual([
      [null, ['redis-enterprise.shards', 'redis-enterprise.internode'], ['cluster-nodes'], '11:5'],
      ['redis-enterprise', [], ['trusted-clients', 'cluster-nodes'], '14:5'],
      [null, ['zeebe.broker-command-api', 'zeebe.internal-api'], ['zeebe'], '16:5'],
      [null, ['gloo-mesh.gloo-xds', 'kgateway.gloo-xds'], ['gateways'], '18:5'],
    ]);
    // Plain data: survives structured cloning into worker threads unchanged.
    expect(structuredClone(spec)).toEqual(spec);
  });

  const bad = readdirSync(join(ROOT, 'fixtures/policy-bad')).filter((f) => f.endsWith('.yaml'));
  it.each(bad)('fixtures/policy-bad/%s: every problem, with positions, exactly as in its .errors.txt', (name) => {
    const path = `fixtures/policy-bad/${name}`;
    const expected = readFileSync(join(ROOT, path.replace(/\.yaml$/, '.errors.txt')), 'utf8');
    let err: unknown;
    try {
      loadPolicyFile(path, rules, { monitoringHosts: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyFileError);
    expect((err as PolicyFileError).code).toBe('PSN_ERR_POLICY_FILE');
    expect(`${(err as PolicyFileError).message}\n`).toBe(expected);
  });

  it('`monitoring` is defined by --monitoring-hosts even when the file has no such network', () => {
    const text = 'schema: 1\nclients:\n  - rules: [zeebe.broker-monitoring]\n    from: [monitoring]\n';
    expect(parsePolicyText('p.yaml', text, rules, { monitoringHosts: false }).problems.map((p) => p.problem)).toEqual([
      "network 'monitoring' is not defined: define networks.monitoring or give --monitoring-hosts",
    ]);
    expect(parsePolicyText('p.yaml', text, rules, { monitoringHosts: true }).problems).toEqual([]);
  });

  it('a missing file is one problem naming it', () => {
    expect(() => loadPolicyFile('no/such/policy.yaml', rules, { monitoringHosts: false })).toThrow('no/such/policy.yaml:1:1: cannot read policy file: no such file');
  });

  it('an empty map and an empty file', () => {
    expect(parsePolicyText('p.yaml', 'schema: 1\n', rules, { monitoringHosts: false }).spec).toEqual({ path: 'p.yaml', networks: [], entries: [] });
    expect(parsePolicyText('p.yaml', '', rules, { monitoringHosts: false }).problems.map((p) => p.problem)).toEqual([
      'a policy file must be a map with keys schema, networks, clients, got null',
    ]);
  });

  it('rules/policy.schema.json is what `npm run schema` writes now', () => {
    expect(readFileSync(POLICY_SCHEMA_PATH, 'utf8')).toBe(policySchemaText());
  });

  it('the documented examples validate', () => {
    for (const path of ['fixtures/policy/fleet.yaml', 'deploy/policy.example.yaml']) {
      const r = parsePolicyText(path, readFileSync(join(ROOT, path), 'utf8'), rules, { monitoringHosts: false });
      expect(r.problems, path).toEqual([]);
    }
  });
});
