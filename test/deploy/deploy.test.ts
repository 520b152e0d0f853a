/**
 * deploy/: the Prometheus configuration and rules pass promtool (check config, check rules, and
 * the rule unit tests); the systemd unit passes systemd-analyze verify and keeps its hardening; the
 * Kubernetes manifests parse and carry what a capture DaemonSet needs; every portsniff command
 * line in them is accepted by portsniff's own option parser; the embedded policies validate.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parsePolicyText } from '../../src/rules/policy.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { which } from '../capture/live/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const MAIN = join(ROOT, 'dist/cli/main.js');
const PROMTOOL = which('promtool');
const SYSTEMD_ANALYZE = which('systemd-analyze');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rules = loadRuleDirs([defaultRulesDir()]);

function run(cmd: string, args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * Runs portsniff with a command line from a deployment file, on an interface that does not exist:
 * a usage error (a bad option) exits 2; accepted options get as far as opening the capture (exit 1).
 */
function acceptedByCli(args: string[]): { code: number | null; out: string } {
  return run(process.execPath, [MAIN, ...args], dir);
}

describe('deploy/prometheus', () => {
  const prom = join(DEPLOY, 'prometheus');
  it.skipIf(PROMTOOL === null)('promtool check config accepts the scrape configuration and its rule file', () => {
    const r = run(PROMTOOL!, ['check', 'config', 'prometheus.yml'], prom);
    expect(r.out).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax');
    expect(r.out).toContain('SUCCESS: 9 rules found');
    expect(r.code).toBe(0);
  });

  it.skipIf(PROMTOOL === null)('promtool check config accepts the federation and remote-write examples', () => {
    for (const file of ['federation.yml', 'remote-write.yml']) {
      const r = run(PROMTOOL!, ['check', 'config', file], prom);
      expect(r.out, file).toContain(`SUCCESS: ${file} is valid prometheus config file syntax`);
      expect(r.code, file).toBe(0);
    }
  });

  it.skipIf(PROMTOOL === null)('promtool check rules and the rule unit tests pass', () => {
    const check = run(PROMTOOL!, ['check', 'rules', 'portsniff-rules.yml'], prom);
    expect(check.code, check.out).toBe(0);
    const test = run(PROMTOOL!, ['test', 'rules', 'portsniff-rules.test.yml'], prom);
    expect(test.out).toContain('SUCCESS');
    expect(test.code, test.out).toBe(0);
  });

  it.skipIf(PROMTOOL === null)('a broken rule is caught (the check can fail)', () => {
    const bad = readFileSync(join(prom, 'portsniff-rules.yml'), 'utf8').replace('> 0.05', '> > 0.05');
    writeFileSync(join(dir, 'bad-rules.yml'), bad);
    expect(run(PROMTOOL!, ['check', 'rules', 'bad-rules.yml'], dir).code).not.toBe(0);
  });

  it('alert rules cover exposure violations, mismatch rate, drops and a sensor that is down', () => {
    const doc = parseYaml(readFileSync(join(prom, 'portsniff-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> };
    const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(alerts.map((a) => a.alert)).toEqual(['PortsniffExposureViolation', 'PortsniffProtocolMismatchRate', 'PortsniffPacketDrops', 'PortsniffSensorDown', 'PortsniffSensorStuck']);
  });

  it('the Kubernetes scrape job parses and keeps only the DaemonSet pods, by port name', () => {
    if (PROMTOOL === null) console.warn('SKIPPED promtool checks: promtool is not installed (scripts/setup.sh installs prometheus)');
    const doc = parseYaml(readFileSync(join(prom, 'scrape-kubernetes.yml'), 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
    const job = doc.scrape_configs[0]!;
    expect(job['kubernetes_sd_configs']).toEqual([{ role: 'pod' }]);
    const relabel = job['relabel_configs'] as Array<Record<string, unknown>>;
    expect(relabel.filter((r) => r['action'] === 'keep').map((r) => r['regex'])).toEqual(['portsniff', 'metrics']);
  });
});

describe('deploy/systemd', () => {
  const unitText = readFileSync(join(DEPLOY, 'systemd/portsniff.service'), 'utf8');
  const keys = new Map<string, string[]>();
  for (const line of unitText.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  const key = (k: string): string => (keys.get(k) ?? []).join(' ');

  it.skipIf(SYSTEMD_ANALYZE === null)('systemd-analyze verify finds nothing to say (ExecStart pointed at an existing binary)', () => {
    // verify checks that ExecStart's binary exists; /usr/bin/portsniff is not installed here.
    const unit = join(dir, 'portsniff.service');
    writeFileSync(unit, unitText.replace('/usr/bin/portsniff', process.execPath));
    const r = run(SYSTEMD_ANALYZE!, ['verify', unit], dir);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    // And the check can fail: a misspelt key is reported.
    writeFileSync(unit, unitText.replace('/usr/bin/portsniff', process.execPath).replace('NoNewPrivileges=', 'NoNewPrivilegez='));
    expect(run(SYSTEMD_ANALYZE!, ['verify', unit], dir).out).toMatch(/Unknown key 'NoNewPrivilegez'/);
  });

  it('is hardened: a system user with the two capture capabilities, no privilege gain, read-only system', () => {
    if (SYSTEMD_ANALYZE === null) console.warn('SKIPPED systemd-analyze verify: not installed; the key checks below still run');
    expect(key('User')).toBe('portsniff');
    expect(key('AmbientCapabilities')).toBe('CAP_NET_RAW CAP_NET_ADMIN');
    expect(key('CapabilityBoundingSet')).toBe('CAP_NET_RAW CAP_NET_ADMIN');
    expect(key('NoNewPrivileges')).toBe('yes');
    expect(key('ProtectSystem')).toBe('strict');
    expect(key('RestrictAddressFamilies')).toContain('AF_PACKET');
    expect(key('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(key('ExecStart')).toMatch(/^\/usr\/bin\/portsniff live /);
    expect(key('LogsDirectory')).toBe('portsniff');
  });

  it('the options in portsniff.default are accepted by portsniff and its policy path is the one documented', () => {
    const env = readFileSync(join(DEPLOY, 'systemd/portsniff.default'), 'utf8');
    const options = /^PORTSNIFF_OPTIONS=(.*)$/m.exec(env)![1]!.split(/\s+/).filter(Boolean);
    const r = acceptedByCli(['live', 'nonexistent0', ...options]);
    expect(r.out).toMatch(/cannot capture on 'nonexistent0': no such interface/);
    expect(r.code).toBe(1);
  });

  it('logrotate reloads the unit after rotating (SIGHUP reopens the files)', () => {
    const text = readFileSync(join(DEPLOY, 'logrotate/portsniff'), 'utf8');
    expect(text).toMatch(/^\/var\/log\/portsniff\/\*\.ndjson \{/m);
    expect(text).toMatch(/postrotate\n\s+systemctl reload portsniff\.service/);
  });
});

describe('deploy/kubernetes', () => {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes/portsniff-daemonset.yaml'), 'utf8'));
  const objects = docs.map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, any>;
  });
  const byKind = (kind: string) => objects.find((o) => o['kind'] === kind)!;

  it('every object has apiVersion, kind, metadata.name; namespaced ones are in portsniff', () => {
    expect(objects.map((o) => o['kind'])).toEqual(['Namespace', 'ServiceAccount', 'ConfigMap', 'DaemonSet']);
    for (const o of objects) {
      expect(typeof o['apiVersion']).toBe('string');
      expect(typeof o['metadata']?.name).toBe('string');
      if (o['kind'] !== 'Namespace') expect(o['metadata'].namespace).toBe('portsniff');
    }
  });

  it('the DaemonSet: host network, NET_RAW/NET_ADMIN only, a metrics port, selector matching its pods', () => {
    const ds = byKind('DaemonSet');
    expect(ds['apiVersion']).toBe('apps/v1');
    const pod = ds['spec'].template.spec;
    expect(ds['spec'].selector.matchLabels).toEqual(ds['spec'].template.metadata.labels);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const c = pod.containers[0];
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] });
    expect(c.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.args).toContain('0.0.0.0:9464');
    // The policy file the args name is the ConfigMap key mounted there.
    expect(c.args[c.args.indexOf('--policy') + 1]).toBe('/etc/portsniff/policy.yaml');
    expect(c.volumeMounts).toEqual([{ name: 'policy', mountPath: '/etc/portsniff', readOnly: true }]);
    expect(pod.volumes[0].configMap.name).toBe(byKind('ConfigMap')['metadata'].name);
  });

  it('its args are accepted by portsniff, and its policy validates against the shipped rules', () => {
    const c = byKind('DaemonSet')['spec'].template.spec.containers[0];
    const args = [...c.args] as string[];
    args[1] = 'nonexistent0';
    const r = acceptedByCli(args);
    expect(r.out).toMatch(/cannot capture on 'nonexistent0': no such interface/);
    expect(r.code).toBe(1);
    const policy = byKind('ConfigMap')['data']['policy.yaml'] as string;
    expect(parsePolicyText('policy.yaml', policy, rules, { monitoringHosts: false }).problems).toEqual([]);
  });

  it('the Containerfile gives tcpdump the capabilities the DaemonSet relies on', () => {
    const text = readFileSync(join(DEPLOY, 'container/Containerfile'), 'utf8');
    expect(text).toContain('setcap cap_net_raw,cap_net_admin=eip /usr/bin/tcpdump');
    expect(text).toMatch(/^USER 65532:65532$/m);
    expect(existsSync(MAIN)).toBe(true);
  });
});

