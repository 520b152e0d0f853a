/**
 * --policy decides the exposure verdict: per rule or product entry, documented exposure otherwise,
 * the private-range override, the monitoring network; the verdict lands in the flow records, the
 * services' exposure counts and the text summary the same way with 0, 1 or 3 worker threads.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PolicyChecker } from '../../src/classify/policy-check.js';
import { parseCidrList } from '../../src/classify/exposure.js';
import { parseAddress } from '../../src/flow/key.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { loadPolicyFile, parsePolicyText } from '../../src/rules/policy.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { renderTextSummary } from '../../src/export/text.js';
import { comparable, options, runPipeline } from '../pipeline/helpers.js';
import { sessionData } from '../export/session-data.js';

const FLEET = fileURLToPath(new URL('../../fixtures/captures/fleet.pcap', import.meta.url));
const ruleSet = loadRuleDirs([defaultRulesDir()]);
const index = compileRules(ruleSet);
const policy = loadPolicyFile('fixtures/policy/fleet.yaml', ruleSet, { monitoringHosts: false });

function candidates(proto: number, port: number) {
  return index.group(index.lookup(proto, port)).bestCandidates;
}

function client(checker: PolicyChecker, ip: string) {
  const a = parseAddress(ip)!;
  return checker.client(a[0], a[1], a[2], a[3], a[4]);
}

describe('PolicyChecker', () => {
  const checker = new PolicyChecker(policy, null);

  it('a rule entry beats the product entry; outside its networks is a violation', () => {
    const shards = candidates(6, 20001);
    expect(checker.check(shards, client(checker, '10.20.0.12'))).toMatchObject({ status: 'ok', policy: { entry: 'fixtures/policy/fleet.yaml:11:5', from: ['cluster-nodes'], clientNetworks: ['cluster-nodes'] } });
    // A trusted client is allowed by the product entry, but shards have their own entry.
    expect(checker.check(shards, client(checker, '10.20.5.21'))).toMatchObject({ status: 'violation', client: 'private', policy: { entry: 'fixtures/policy/fleet.yaml:11:5', clientNetworks: ['trusted-clients'] } });
    const db = candidates(6, 12000);
    expect(checker.check(db, client(checker, '10.20.5.21'))).toMatchObject({ status: 'ok', policy: { entry: 'fixtures/policy/fleet.yaml:14:5' } });
    expect(checker.check(db, client(checker, '10.77.0.5'))).toMatchObject({ status: 'violation', allowed: ['external', 'internal', 'active-active'] });
  });

  it('rules without an entry keep the documented exposure, with the policy monitoring network', () => {
    const metrics = candidates(6, 9600);
    expect(checker.check(metrics, client(checker, '10.90.0.9'))).toMatchObject({ status: 'ok', monitoringHost: true, policy: { entry: null, from: null } });
    expect(checker.check(metrics, client(checker, '10.77.0.5'))).toMatchObject({ status: 'violation', monitoringHost: false });
    expect(checker.check(candidates(6, 26500), client(checker, '198.51.100.1')).status).toBe('ok'); // external
  });

  it('an ambiguous flow is fine when any candidate allows its client', () => {
    const xds = candidates(6, 9977);
    expect(xds.length).toBe(2);
    expect(checker.check(xds, client(checker, '10.40.1.21')).status).toBe('ok');
    expect(checker.check(xds, client(checker, '10.77.0.5')).status).toBe('violation');
    // Only one of the two candidates has an entry: the other one's documented exposure may allow.
    const only = new PolicyChecker(parsePolicyText('p.yaml', 'schema: 1\nnetworks:\n  gw: [10.40.1.0/24]\nclients:\n  - rules: [gloo-mesh.gloo-xds]\n    from: [gw]\n', ruleSet, { monitoringHosts: false }).spec!, null);
    expect(only.check(xds, client(only, '10.77.0.5'))).toMatchObject({ status: 'ok', policy: { entry: null } });
  });

  it('`private` replaces the built-in private ranges; --monitoring-hosts and the file add up', () => {
    const spec = parsePolicyText('p.yaml', 'schema: 1\nnetworks:\n  private: [10.20.0.0/16, 198.51.100.0/24]\n  monitoring: [10.90.0.9]\n', ruleSet, { monitoringHosts: true }).spec!;
    const c = new PolicyChecker(spec, parseCidrList('10.91.0.0/24'));
    const internal = candidates(6, 26501);
    expect(c.check(internal, client(c, '10.77.0.5'))).toMatchObject({ status: 'violation', client: 'public' }); // 10/8 no longer private
    expect(c.check(internal, client(c, '198.51.100.7'))).toMatchObject({ status: 'ok', client: 'private' });
    expect(c.check(internal, client(c, '127.0.0.1'))).toMatchObject({ status: 'ok', client: 'loopback' });
    const metrics = candidates(6, 9600);
    expect(c.check(metrics, client(c, '10.90.0.9')).status).toBe('ok');
    expect(c.check(metrics, client(c, '10.91.0.3')).status).toBe('ok');
    expect(c.check(metrics, client(c, '10.90.0.10')).status).toBe('violation');
  });

  it('built-in network names in `from`', () => {
    const spec = parsePolicyText('p.yaml', 'schema: 1\nclients:\n  - product: zeebe\n    from: [loopback]\n  - product: edgecomet\n    from: [any]\n  - product: gloo-mesh\n    from: [private]\n', ruleSet, { monitoringHosts: false }).spec!;
    const c = new PolicyChecker(spec, null);
    expect(c.check(candidates(6, 26500), client(c, '127.0.0.1')).status).toBe('ok');
    expect(c.check(candidates(6, 26500), client(c, '10.1.1.1')).status).toBe('violation');
    expect(c.check(candidates(6, 10071), client(c, '203.0.113.1')).status).toBe('ok');
    expect(c.check(candidates(6, 9988).filter((x) => x.rule.product === 'gloo-mesh'), client(c, '203.0.113.1')).status).toBe('violation');
  });
});

describe('--policy in flows, services and the summary', () => {
  it('the fleet capture: policy violations on top of the documented ones', async () => {
    const plain = await sessionData(FLEET, { updateEvery: 1e9 });
    const withPolicy = await sessionData(FLEET, { updateEvery: 1e9, classification: { policy } });
    const violations = (flows: ClassifiedFlow[]) =>
      flows.filter((f) => f.exposure?.status === 'violation').map((f) => `${f.client.ip}->${f.server.port}`).sort();
    expect(violations(plain.flows)).toEqual(['203.0.113.7->20002']);
    expect(violations(withPolicy.flows)).toEqual([
      '10.77.0.5->10079', // monitoring network from the file
      '10.77.0.5->20001', // shards: cluster nodes only
      '10.77.0.5->26501', // broker: zeebe only
      '10.77.0.5->3336', // internode: cluster nodes only
      '10.77.0.5->9977', // xDS: gateways only
      '203.0.113.7->20002',
    ]);
    const stray = withPolicy.flows.find((f) => f.client.ip === '10.77.0.5' && f.server.port === 20001)!;
    expect(stray.exposure).toEqual({
      status: 'violation',
      client: 'private',
      monitoringHost: false,
      allowed: ['internal'],
      policy: { entry: 'fixtures/policy/fleet.yaml:11:5', from: ['cluster-nodes'], clientNetworks: [] },
    });
    // Without --policy the records carry no `policy` key: outputs stay as they were.
    expect(plain.flows.every((f) => f.exposure === null || !('policy' in f.exposure!))).toBe(true);
    const shards = withPolicy.end.summary.services.find((s) => s.key === 'redis-enterprise.shards')!;
    expect(shards.exposure).toEqual({ ok: 6, violation: 2, unchecked: 0 });
    const text = renderTextSummary(withPolicy.end.summary, [], withPolicy.flows.filter((f) => f.exposure?.status === 'violation'));
    expect(text).toContain('exposure: 6 flows from clients the documents do not expect on that port');
    expect(text).toMatch(/10\.77\.0\.5:61001 +10\.20\.0\.12:20001 +private +redis-enterprise\.shards/);
  });

  it('the same flow records and services with 0, 1 and 3 worker threads', async () => {
    const classification = { ...options(0).classification!, policy };
    const runs = [];
    for (const workers of [0, 1, 3]) runs.push(comparable(await runPipeline(FLEET, options(workers, { classification }))));
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    const flows = (runs[0] as { flows: string[] }).flows.map((l) => JSON.parse(l) as ClassifiedFlow);
    expect(flows.filter((f) => f.exposure?.policy?.entry !== null && f.exposure?.policy !== undefined).length).toBeGreaterThan(10);
  });
});
