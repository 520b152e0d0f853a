/**
 * Golden tests over fixtures/cases.yaml: every capture in fixtures/captures/ (real loopback
 * captures and generated ones) is replayed with `--json --flows`, and the summary and the flow log
 * must equal fixtures/expected/<name>.summary.json / .flows.ndjson (vitest file snapshots:
 * `npm run test:update` rewrites them; review the diff). The key facts each capture exists for
 * are asserted explicitly below, so a snapshot update cannot silently bless a wrong verdict.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_CAPTURE, demoCapture } from '../../fixtures/gen/demo.js';
import { FLEET_CAPTURE, fleetCapture } from '../../fixtures/gen/fleet.js';
import { DEMO_TUNNELS_CAPTURE, demoTunnelsCapture } from '../../fixtures/gen/demo-tunnels.js';
import type { CaptureBuilder } from '../../fixtures/gen/scenario.js';
import { ZEEBE_CAPTURE, zeebeCapture } from '../../fixtures/gen/zeebe.js';
import { FIXTURES, loadCases, runCase, runSummaryOnly, type CaseRun, type FlowLine, type GoldenCase } from './run-case.js';

const cases = loadCases();
const byName = new Map(cases.map((c) => [c.name, c]));

function run(name: string): Promise<CaseRun> {
  const c = byName.get(name);
  if (c === undefined) throw new Error(`fixtures/cases.yaml has no case named ${name}`);
  return runCase(c);
}

function capturesOnDisk(dir = join(FIXTURES, 'captures')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...capturesOnDisk(p));
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(e.name)) out.push(relative(FIXTURES, p));
  }
  return out.sort();
}

const ids = (f: FlowLine): string[] => (f.candidates ?? []).map((c) => c.id);
const tags = (f: FlowLine): string[] => (f.evidence?.['tags'] ?? '').split(',').filter((t) => t !== '');
const serverPort = (port: number) => (f: FlowLine) => f.server.port === port;

describe('fixtures/cases.yaml', () => {
  it('names every capture in fixtures/captures at least once, and nothing else', () => {
    const listed = new Set(cases.map((c) => c.capture));
    expect([...listed].sort()).toEqual(capturesOnDisk());
  });

  it('has unique case names made of safe characters', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect(c.name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
  });
});

describe.each(cases)('golden: $name', (c: GoldenCase) => {
  it('summary and flow log match fixtures/expected', async () => {
    const r = await runCase(c);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    // Every flow of the log is counted in the summary.
    expect(r.flows).toHaveLength(r.summary.totals.flows);
    expect(r.summaryText).not.toContain(FIXTURES);
    await expect(r.summaryText).toMatchFileSnapshot(`../../fixtures/expected/${c.name}.summary.json`);
    await expect(r.flowsText).toMatchFileSnapshot(`../../fixtures/expected/${c.name}.flows.ndjson`);
  });
});

describe.each(cases)('golden without a flow log: $name', (c: GoldenCase) => {
  it('--json alone gives the same summary as with --flows (verdicts-only inspection changes no count)', async () => {
    const r = await runSummaryOnly(c);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.summaryText).toBe((await runCase(c)).summaryText);
  });
});

describe('key facts: real loopback captures', () => {
  it('redis-server on 6379: RESP verified, ambiguous between the two documented Redis rules, IPv4 and IPv6', async () => {
    const { flows, summary } = await run('redis-6379');
    expect(flows.length).toBeGreaterThan(5);
    for (const f of flows) {
      expect(f.server.port).toBe(6379);
      expect(f.verdict).toBe('verified');
      expect(f.ambiguous).toBe(true);
      expect(f.service).toBeNull();
      expect(ids(f)).toEqual(['edgecomet.redis', 'gloo-mesh-enterprise.redis']);
      expect(f.evidence?.['protocol']).toBe('resp');
    }
    expect(flows.some((f) => f.ipVersion === 6)).toBe(true);
    expect(summary.services.map((s) => s.key)).toEqual(['ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis']);
    expect(summary.services[0]!.verdicts.verified).toBe(flows.length);
  });

  it('redis-server on 12000: Redis Enterprise database endpoint verified by RESP', async () => {
    const { flows } = await run('redis-enterprise-db-12000');
    expect(flows.length).toBeGreaterThan(5);
    for (const f of flows) {
      expect(f.service?.id).toBe('redis-enterprise.database-endpoints');
      expect(f.verdict).toBe('verified');
      expect(f.ambiguous).toBe(false);
      expect(f.evidence?.['protocol']).toBe('resp');
    }
  });

  it('grpc-js on 9977: Envoy ADS path decoded from HPACK, xDS verified, ambiguous Gloo Mesh / kgateway', async () => {
    const { flows } = await run('grpc-envoy-ads-9977');
    expect(flows).toHaveLength(1);
    const f = flows[0]!;
    expect(f.verdict).toBe('verified');
    expect(f.evidence?.['grpcPath']).toBe('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources');
    expect(f.evidence?.['xdsService']).toBe('envoy.service.discovery.v3.AggregatedDiscoveryService');
    expect(tags(f)).toEqual(expect.arrayContaining(['http2', 'grpc', 'grpc:envoy-xds']));
    expect(f.ambiguous).toBe(true);
    expect(ids(f)).toEqual(['gloo-mesh.gloo-xds', 'kgateway.gloo-xds']);
  });

  it('grpc-js on 26500: Zeebe gateway Topology verified', async () => {
    const { flows } = await run('grpc-zeebe-gateway-26500');
    expect(flows).toHaveLength(1);
    const f = flows[0]!;
    expect(f.service?.id).toBe('zeebe.gateway-grpc');
    expect(f.verdict).toBe('verified');
    expect(f.evidence?.['grpcPath']).toBe('/gateway_protocol.Gateway/Topology');
    expect(tags(f)).toContain('grpc:zeebe-gateway');
  });

  it('Prometheus scraping 10079: EdgeComet Edge Gateway metrics verified by the scrape and the text format', async () => {
    const { flows } = await run('prometheus-scrape-10079');
    expect(flows.length).toBeGreaterThanOrEqual(1);
    for (const f of flows) {
      expect(f.service?.id).toBe('edgecomet.edge-gateway-metrics');
      expect(f.verdict).toBe('verified');
      expect(f.evidence?.['httpMethod']).toBe('GET');
      expect(f.evidence?.['httpPath']).toBe('/metrics');
      expect(f.evidence?.['userAgent']).toMatch(/^Prometheus\//);
      expect(tags(f)).toEqual(expect.arrayContaining(['http1:prometheus-scrape', 'prometheus-text']));
    }
  });

  it('openssl on 8443: TLS verifies the rules that promise it, still ambiguous; SNI and ALPN in evidence', async () => {
    const { flows } = await run('tls-sni-8443');
    expect(flows).toHaveLength(2);
    for (const f of flows) {
      expect(f.verdict).toBe('verified');
      expect(f.ambiguous).toBe(true);
      // gloo-mesh.gateway-validation names no protocol: TLS evidence drops it from the candidates.
      expect(ids(f)).toEqual(['gloo-mesh.gateway-proxy-https', 'kgateway.gateway-proxy-https', 'kgateway.gloo-validation-8443', 'redis-enterprise.web-ui']);
      expect(f.evidence?.['protocol']).toBe('tls');
    }
    expect(flows.map((f) => f.evidence?.['sni']).sort()).toEqual(['cluster.redis.example', 'console.gloo-mesh.example']);
    expect(flows.find((f) => f.evidence?.['sni'] === 'console.gloo-mesh.example')?.evidence?.['alpn']).toBe('h2,http/1.1');
    expect(flows.find((f) => f.evidence?.['sni'] === 'cluster.redis.example')?.evidence?.['tlsVersion']).toBe('1.2');
  });

  it('openssl on 8443 with --products redis-enterprise: the web UI, not ambiguous', async () => {
    const { flows } = await run('tls-sni-8443-products-redis-enterprise');
    for (const f of flows) {
      expect(f.service?.id).toBe('redis-enterprise.web-ui');
      expect(f.verdict).toBe('verified');
      expect(f.ambiguous).toBe(false);
    }
  });

  it('openssl on 9443: Redis Enterprise REST API over TLS verified, SNI reported', async () => {
    const { flows } = await run('tls-sni-9443');
    expect(flows).toHaveLength(1);
    expect(flows[0]!.service?.id).toBe('redis-enterprise.rest-api-https');
    expect(flows[0]!.verdict).toBe('verified');
    expect(flows[0]!.evidence?.['sni']).toBe('api.cluster.redis.example');
  });

  it('dig against a DNS responder on 53: every query verified as DNS, NXDOMAIN included', async () => {
    const { flows } = await run('dns-53');
    expect(flows).toHaveLength(7);
    for (const f of flows) {
      expect(f.transport).toBe('udp');
      expect(f.service?.id).toBe('redis-enterprise.dns');
      expect(f.verdict).toBe('verified');
    }
    expect(flows.map((f) => f.evidence?.['dnsQtype']).sort()).toEqual(['A', 'A', 'A', 'A', 'AAAA', 'SRV', 'TXT']);
    expect(flows.filter((f) => f.evidence?.['dnsRcode'] === '3').map((f) => f.evidence?.['dnsQname'])).toEqual(['missing.example.org']);
  });

  it('HTTP on 6379: mismatch against both Redis rules', async () => {
    const { flows } = await run('mismatch-http-on-6379');
    expect(flows).toHaveLength(3);
    for (const f of flows) {
      expect(f.verdict).toBe('mismatch');
      expect(f.evidence?.['protocol']).toBe('http1');
      expect(ids(f)).toEqual(['edgecomet.redis', 'gloo-mesh-enterprise.redis']);
    }
  });

  it('TLS on 26501: encrypted, because the Zeebe document does not say the Command API is plaintext', async () => {
    // The seed document (line 44) names an internal SBE protocol and says nothing about TLS, so
    // TLS there hides the protocol (encrypted), it does not contradict the document (mismatch).
    const { flows } = await run('mismatch-tls-on-26501');
    expect(flows).toHaveLength(1);
    expect(flows[0]!.service?.id).toBe('zeebe.broker-command-api');
    expect(flows[0]!.verdict).toBe('encrypted');
    expect(flows[0]!.evidence?.['sni']).toBe('zeebe-0.zeebe-broker-service');
  });
});

describe('key facts: synthesised captures', () => {
  it('Zeebe broker: Command API verified as SBE, internal API as Atomix, UDP gossip unknown but recognised', async () => {
    const { flows } = await run('zeebe-broker');
    const api = flows.filter((f) => f.transport === 'tcp' && f.server.port === 26501);
    const internal = flows.filter((f) => f.transport === 'tcp' && f.server.port === 26502);
    expect(api).toHaveLength(1);
    expect(internal).toHaveLength(2);
    expect(api[0]!.service?.id).toBe('zeebe.broker-command-api');
    expect(api[0]!.evidence?.['protocol']).toBe('zeebe-sbe');
    for (const f of [...api, ...internal]) expect(f.verdict).toBe('verified');
    for (const f of internal) {
      expect(f.service?.id).toBe('zeebe.internal-api');
      expect(f.evidence?.['protocol']).toBe('zeebe-atomix');
    }
    // Handshake and first request in one segment: the subject names the message.
    expect(internal.some((f) => f.evidence?.['subject'] === 'atomix-membership-sync')).toBe(true);
    const gossip = flows.filter((f) => f.transport === 'udp');
    expect(gossip).toHaveLength(1);
    // No rule documents udp/26502, so no verdict; the payload is still recognised (issue 10).
    expect(gossip[0]!.verdict).toBe('unknown');
    expect(gossip[0]!.server.port).toBe(26502);
    expect(gossip[0]!.evidence).toMatchObject({ protocol: 'zeebe-atomix', frame: 'unicast', subject: 'atomix-membership-gossip', message: 'SwimGossip' });
  });

  it('demo: every verdict, ambiguity, VLAN, IPv6 and ICMP appear', async () => {
    const { flows, summary } = await run('demo');
    expect(summary.totals.packets).toBeGreaterThanOrEqual(2000);
    expect(summary.totals.packets).toBeLessThanOrEqual(5000);
    expect(summary.totals.anomalies).toEqual({});
    const verdicts = new Set(flows.map((f) => f.verdict));
    expect([...verdicts].sort()).toEqual(['encrypted', 'mismatch', 'port-only', 'unknown', 'verified']);
    expect(flows.some((f) => f.ambiguous)).toBe(true);
    expect(flows.some((f) => f.vlan !== null && f.vlan.length > 0)).toBe(true);
    expect(flows.some((f) => f.ipVersion === 6)).toBe(true);
    expect(flows.some((f) => f.transport === 'icmp')).toBe(true);
    for (const key of ['redis-enterprise.database-endpoints', 'zeebe.gateway-grpc', 'zeebe.broker-command-api', 'zeebe.internal-api', 'zeebe.broker-monitoring', 'edgecomet.edge-gateway-metrics', 'redis-enterprise.dns', 'kgateway.gloo-xds']) {
      expect(summary.services.map((s) => s.key)).toContain(key);
    }
  });

  it('demo: the deliberate mismatch, encrypted, port-only and unknown flows get their verdicts', async () => {
    const { flows } = await run('demo');
    const one = (pred: (f: FlowLine) => boolean): FlowLine => {
      const m = flows.filter(pred);
      expect(m).toHaveLength(1);
      return m[0]!;
    };
    expect(one((f) => f.server.port === 6379 && f.evidence?.['protocol'] === 'http1').verdict).toBe('mismatch');
    expect(one((f) => f.server.port === 26501 && f.evidence?.['protocol'] === 'tls').verdict).toBe('encrypted');
    // TLS on 9977 confirms kgateway (which documents optional TLS) over Gloo Mesh.
    const xdsTls = one((f) => f.server.port === 9977 && f.evidence?.['protocol'] === 'tls');
    expect(xdsTls.verdict).toBe('verified');
    expect(xdsTls.service?.id).toBe('kgateway.gloo-xds');
    expect(one(serverPort(8001)).verdict).toBe('port-only');
    expect(one(serverPort(8001)).state).toBe('S0');
    expect(one((f) => f.server.port === 12000 && f.state === 'RSTR').verdict).toBe('port-only');
    expect(one(serverPort(9080)).verdict).toBe('port-only');
    expect(one(serverPort(3342)).verdict).toBe('unknown');
    expect(one(serverPort(22)).verdict).toBe('unknown');
    expect(one(serverPort(9976)).service?.id).toBe('kgateway.gloo-rest-xds');
    expect(one(serverPort(9976)).verdict).toBe('verified');
  });

  it('demo: a DNS response cut into IP fragments is one flow whose payload is counted once', async () => {
    const { flows } = await run('demo');
    const f = flows.find((x) => x.client.port === 50200 && x.server.port === 53);
    expect(f).toBeDefined();
    expect(f!.verdict).toBe('verified');
    expect(f!.packets).toEqual({ toServer: 1, toClient: 2 });
    // Two fragments: 1480 + 1386 bytes of IP payload = an 8-byte UDP header + 2858 bytes of DNS.
    expect(f!.payloadBytes.toClient).toBe(2858);
  });

  it('demo with --products edgecomet: 6379 resolves to EdgeComet, other products fall out', async () => {
    const { flows } = await run('demo-products-edgecomet');
    const redis = flows.filter(serverPort(6379));
    expect(redis.length).toBeGreaterThan(10);
    for (const f of redis) {
      expect(f.service?.id).toBe('edgecomet.redis');
      expect(f.ambiguous).toBe(false);
    }
    for (const f of flows.filter((x) => x.server.port === 26500 || x.server.port === 26501)) expect(f.verdict).toBe('unknown');
  });

  it('demo with --products gloo-mesh,gloo-mesh-enterprise: 6379 resolves to the Enterprise Redis', async () => {
    const { flows } = await run('demo-products-gloo-mesh');
    for (const f of flows.filter(serverPort(6379))) {
      expect(f.service?.id).toBe('gloo-mesh-enterprise.redis');
      expect(f.ambiguous).toBe(false);
    }
    for (const f of flows.filter((x) => x.server.port === 9977 && x.evidence?.['protocol'] === 'grpc')) expect(f.service?.id).toBe('gloo-mesh.gloo-xds');
  });

  it('demo with --no-rules: same flows, no classification', async () => {
    const [plain, bare] = await Promise.all([run('demo'), run('demo-no-rules')]);
    expect(bare.summary.totals).toEqual(plain.summary.totals);
    for (const f of bare.flows) expect(f.verdict).toBeUndefined();
    expect(bare.summary.services.map((s) => s.key)).toEqual(['unclassified']);
  });

  it('demo: exposure is checked against the documents; --monitoring-hosts decides the metrics ports', async () => {
    const [plain, mon] = await Promise.all([run('demo'), run('demo-monitoring-hosts')]);
    const from = (ip: string, port: number) => (f: FlowLine) => f.client.ip === ip && f.server.port === port;
    // An internet client on the internal shard port: a violation with or without monitoring hosts.
    for (const r of [plain, mon]) {
      const shard = r.flows.find(from('203.0.113.7', 23001))!;
      expect(shard.exposure).toEqual({ status: 'violation', client: 'public', monitoringHost: r === mon ? false : null, allowed: ['internal'] });
    }
    // Metrics scrapes: unchecked without the list; with it, the Prometheus host is ok and the stranger is not.
    expect(plain.flows.find(from('10.90.0.9', 10079))!.exposure!.status).toBe('unchecked');
    expect(plain.flows.find(from('10.66.6.66', 10079))!.exposure!.status).toBe('unchecked');
    expect(mon.flows.find(from('10.90.0.9', 10079))!.exposure).toMatchObject({ status: 'ok', monitoringHost: true });
    expect(mon.flows.find(from('10.66.6.66', 10079))!.exposure).toMatchObject({ status: 'violation', client: 'private', monitoringHost: false });
    // Private clients of internal ports are fine; flows without a rule carry no exposure.
    expect(plain.flows.filter((f) => f.exposure?.status === 'violation')).toHaveLength(1);
    for (const f of plain.flows) if (f.verdict === 'unknown') expect(f.exposure).toBeNull();
    const totals = (r: CaseRun) => r.summary.services.reduce((n, e) => n + e.exposure.violation, 0);
    expect([totals(plain), totals(mon)]).toEqual([1, 2]);
  });

  it('demo with --idle-timeout 5: long quiet connections are cut into several records', async () => {
    const [plain, cut] = await Promise.all([run('demo'), run('demo-idle-timeout-5')]);
    expect(cut.summary.totals.packets).toBe(plain.summary.totals.packets);
    expect(cut.flows.length).toBeGreaterThan(plain.flows.length);
    // Prometheus scrapes 9600 every 15 s over one connection.
    expect(cut.flows.filter(serverPort(9600)).length).toBeGreaterThan(1);
  });
});

describe('key facts: the demo inside overlays (demo-tunnels)', () => {
  /** What identifies a flow and its verdict, without the bytes (the tunnels make frames longer). */
  const facts = (f: FlowLine) => JSON.stringify([
    f.transport, f.ipVersion, f.vlan, f.client, f.server, f.packets, f.payloadBytes, f.state, f.history, f.service, f.verdict,
    ids(f), f.basis, f.evidence ?? null, f.exposure ?? null, f.end,
  ]);
  const overlayOf = (f: FlowLine): string => {
    const hosts = `${f.client.ip} ${f.server.ip}`;
    return /(^| )10\.42\./.test(hosts) ? 'ip-in-ip' : /(^| )(10\.40\.|fd00:40:)/.test(hosts) ? 'geneve' : 'vxlan';
  };

  it('every flow of the plain demo is there, inside its overlay, with the same verdict and exposure result', async () => {
    const [plain, tunnelled] = await Promise.all([run('demo'), run('demo-tunnels')]);
    const inner = tunnelled.flows.filter((f) => f.tunnel !== undefined);
    expect(inner.map(facts).sort()).toEqual(plain.flows.map(facts).sort());
    for (const f of inner) {
      expect(f.tunnel).toHaveLength(1);
      const t = f.tunnel![0]!;
      expect(t.type).toBe(overlayOf(f));
      expect(t.id).toBe(t.type === 'vxlan' ? 1 : t.type === 'geneve' ? 16 : null);
      expect(t.outer!.src).toMatch(/^192\.168\.10\.[1-4]$/);
    }
    // The rest are the overlays' own flows: flannel's UDP 8472, Geneve's 6081, Calico's IP-in-IP.
    const outer = tunnelled.flows.filter((f) => f.tunnel === undefined);
    expect(new Set(outer.map((f) => (f.transport === 'udp' ? `udp/${f.server.port}` : f.transport)))).toEqual(new Set(['udp/8472', 'udp/6081', 'ip-proto-4']));
    expect(inner.some((f) => f.vlan!.length === 1 && f.tunnel![0]!.type === 'vxlan')).toBe(true);
    expect(inner.some((f) => f.ipVersion === 6 && f.tunnel![0]!.type === 'geneve')).toBe(true);
  });

  it('the same services (flows, packets, verdicts, exposure) as the plain demo, each marked with its overlay', async () => {
    const [plain, tunnelled] = await Promise.all([run('demo'), run('demo-tunnels')]);
    const strip = (s: (typeof plain.summary.services)[number]) => [s.key, s.flows, s.packets, s.verdicts, s.exposure];
    const services = tunnelled.summary.services.filter((s) => s.key !== 'unknown');
    expect(services.map(strip)).toEqual(plain.summary.services.filter((s) => s.key !== 'unknown').map(strip));
    for (const s of services) {
      expect(s.encapsulations!.length, s.key).toBeGreaterThan(0);
      expect(s.encapsulations!.reduce((n, e) => n + e.flows, 0), s.key).toBe(s.flows);
    }
    expect(tunnelled.summary.totals.encapsulations!.map((e) => [e.type, e.id])).toEqual([['geneve', 16], ['ip-in-ip', null], ['vxlan', 1]]);
    expect(tunnelled.summary.totals.encapsulations!.reduce((n, e) => n + e.flows, 0)).toBe(plain.flows.length);
    expect(tunnelled.summary.options).toMatchObject({ decap: 'auto', vxlanPorts: [4789, 8472] });
  });

  it('--decap off: only the overlays\' flows, as before tunnels were opened', async () => {
    const off = await run('demo-tunnels-decap-off');
    expect(off.flows.every((f) => f.tunnel === undefined && !['tcp'].includes(f.transport))).toBe(true);
    expect(off.summary.totals.encapsulations).toEqual([]);
    expect(off.summary.options).toMatchObject({ decap: 'off', vxlanPorts: [] });
  });
});

describe('generated captures are fresh', () => {
  it.each([
    [relative(FIXTURES, DEMO_CAPTURE), demoCapture],
    [relative(FIXTURES, DEMO_TUNNELS_CAPTURE), demoTunnelsCapture],
    [relative(FIXTURES, ZEEBE_CAPTURE), zeebeCapture],
    [relative(FIXTURES, FLEET_CAPTURE), fleetCapture],
  ] as Array<[string, () => CaptureBuilder]>)('fixtures/%s equals what its generator writes now (run `npm run fixtures` if not)', (path, build) => {
    expect(Buffer.from(build().toPcap()).equals(readFileSync(join(FIXTURES, path)))).toBe(true);
  });
});
