import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { compileRules, type PortIndex } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/types.js';
import { mkRule, mkSet } from './rule-builders.js';

const TCP = 6;
const UDP = 17;

function bestIds(index: PortIndex, proto: number, port: number): string[] {
  return index.group(index.lookup(proto, port)).best.map((r) => r.id);
}

function allOf(index: PortIndex, proto: number, port: number): string[] {
  return index.group(index.lookup(proto, port)).all.map((c) => `${c.rule.id}:${c.kind}:${c.width}:t${c.tier}`);
}

describe('specificity: exact > narrow range > wide range', () => {
  const set = mkSet([
    mkRule('wide.db', 'tcp', ['10000-19999']),
    mkRule('narrow.block', 'tcp', ['10070-10079']),
    mkRule('narrow.other', 'tcp', ['10075-10084']), // same width 10, overlapping the block
    mkRule('exact.main', 'tcp', [10070]),
    mkRule('exact.api', 'tcp', [10101]),
  ]);
  const index = compileRules(set);

  it('exact beats both ranges and keeps them as lower tiers', () => {
    expect(allOf(index, TCP, 10070)).toEqual(['exact.main:exact:1:t0', 'narrow.block:range:10:t1', 'wide.db:range:10000:t2']);
    expect(index.group(index.lookup(TCP, 10070)).ambiguous).toBe(false);
  });

  it('a narrow range beats the wide one; equal widths tie', () => {
    expect(bestIds(index, TCP, 10071)).toEqual(['narrow.block']);
    expect(bestIds(index, TCP, 10080)).toEqual(['narrow.other']);
    const g = index.group(index.lookup(TCP, 10077));
    expect(g.best.map((r) => r.id)).toEqual(['narrow.block', 'narrow.other']);
    expect(g.ambiguous).toBe(true);
    expect(allOf(index, TCP, 10077)).toEqual(['narrow.block:range:10:t0', 'narrow.other:range:10:t0', 'wide.db:range:10000:t1']);
  });

  it('range edges are inclusive on both ends', () => {
    expect(bestIds(index, TCP, 9999)).toEqual([]);
    expect(bestIds(index, TCP, 10000)).toEqual(['wide.db']);
    expect(bestIds(index, TCP, 19999)).toEqual(['wide.db']);
    expect(bestIds(index, TCP, 20000)).toEqual([]);
    expect(bestIds(index, TCP, 10101)).toEqual(['exact.api']);
    expect(bestIds(index, TCP, 10102)).toEqual(['wide.db']);
  });

  it('transports are separate tables', () => {
    expect(bestIds(index, UDP, 10070)).toEqual([]);
  });

  it('ports with the same matches share one interned group', () => {
    expect(index.lookup(TCP, 12000)).toBe(index.lookup(TCP, 15000));
    expect(index.lookup(TCP, 10071)).toBe(index.lookup(TCP, 10074));
    expect(index.lookup(TCP, 10070)).not.toBe(index.lookup(TCP, 10071));
    // groups: empty, wide, exact.main+..., block+wide, block+other+wide, other+wide, exact.api+wide
    expect(index.groupCount).toBe(7);
  });
});

describe('lookup() never throws and answers 0 for anything it does not know', () => {
  const index = compileRules(mkSet([mkRule('a.low', 'tcp', [1]), mkRule('a.high', 'tcp', [65535]), mkRule('a.ping', 'icmp', [])]));
  it('edge ports and bad input', () => {
    expect(bestIds(index, TCP, 1)).toEqual(['a.low']);
    expect(bestIds(index, TCP, 65535)).toEqual(['a.high']);
    for (const port of [0, -1, 65536, 1e9, Number.NaN, 1.5, Number.POSITIVE_INFINITY]) expect(index.lookup(TCP, port)).toBe(0);
    for (const proto of [0, 2, 41, 255, 256, -6]) expect(index.lookup(proto, 1)).toBe(0);
    expect(index.group(0).all).toEqual([]);
    expect(index.group(12345).best).toEqual([]);
  });
  it('icmp rules answer for ICMP (1) and ICMPv6 (58) whatever the port', () => {
    expect(bestIds(index, 1, 0)).toEqual(['a.ping']);
    expect(bestIds(index, 58, 999)).toEqual(['a.ping']);
    expect(index.group(index.lookup(1, 0)).all[0]).toMatchObject({ kind: 'transport', width: 0, spec: null });
  });
  it('documentedPortMask marks exactly the covered ports', () => {
    const mask = index.documentedPortMask('tcp');
    expect(mask.length).toBe(65536);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(2);
    expect(mask[1]).toBe(1);
    expect(mask[65535]).toBe(1);
    expect(index.documentedPortMask('udp').every((b) => b === 0)).toBe(true);
  });
});

describe('shipped rules', () => {
  let set: RuleSet;
  let index: PortIndex;
  beforeAll(() => {
    set = loadRuleDirs([defaultRulesDir()]);
    index = compileRules(set);
  });

  it('10000-19999 does not swallow the EdgeComet blocks or Gloo Mesh Enterprise 10101', () => {
    expect(bestIds(index, TCP, 10070)).toEqual(['edgecomet.edge-gateway-http']);
    expect(bestIds(index, TCP, 10072)).toEqual(['edgecomet.edge-gateway-block']);
    expect(bestIds(index, TCP, 10085)).toEqual(['edgecomet.render-service-block']);
    expect(bestIds(index, TCP, 10099)).toEqual(['edgecomet.cache-daemon-metrics']);
    expect(bestIds(index, TCP, 10101)).toEqual(['gloo-mesh-enterprise.console-api']);
    expect(bestIds(index, TCP, 10100)).toEqual(['redis-enterprise.database-endpoints']);
    expect(bestIds(index, TCP, 10069)).toEqual(['redis-enterprise.database-endpoints']);
    expect(allOf(index, TCP, 10072)).toEqual(['edgecomet.edge-gateway-block:range:10:t0', 'redis-enterprise.database-endpoints:range:10000:t1']);
  });

  it('the documented overlaps are ambiguous and list every candidate, sorted by id', () => {
    const expected: Record<number, string[]> = {
      8443: ['gloo-mesh.gateway-proxy-https', 'gloo-mesh.gateway-validation', 'kgateway.gateway-proxy-https', 'kgateway.gloo-validation-8443', 'redis-enterprise.web-ui'],
      8080: ['gloo-mesh-enterprise.kube-state-metrics', 'gloo-mesh.gateway-proxy-http', 'kgateway.gateway-proxy-http', 'redis-enterprise.rest-api-http'],
      8081: ['gloo-mesh-enterprise.console-healthcheck', 'kgateway.mtls-envoy-sidecar-admin'],
      8083: ['gloo-mesh-enterprise.extauth', 'gloo-mesh.access-log', 'kgateway.access-log'],
      6379: ['edgecomet.redis', 'gloo-mesh-enterprise.redis'],
      9966: ['gloo-mesh.gloo-metrics-grpc', 'kgateway.gloo-proxy-debug-grpc'],
      443: ['gloo-mesh.gateway-proxy-https', 'gloo-mesh.gateway-validation', 'kgateway.gateway-proxy-https', 'kgateway.gloo-validation-8443'],
      80: ['gloo-mesh-enterprise.grafana-ui', 'gloo-mesh-enterprise.kube-state-metrics', 'gloo-mesh-enterprise.prometheus-server', 'gloo-mesh.gateway-proxy-http', 'kgateway.gateway-proxy-http'],
    };
    for (const [port, ids] of Object.entries(expected)) {
      const g = index.group(index.lookup(TCP, Number(port)));
      expect(g.ambiguous, `tcp/${port}`).toBe(true);
      expect(g.best.map((r) => r.id), `tcp/${port}`).toEqual(ids);
      expect(g.all.every((c) => c.tier === 0 && c.kind === 'exact'), `tcp/${port}`).toBe(true);
    }
  });

  it('--products resolves the ambiguity', () => {
    const redis = compileRules(set, { products: ['redis-enterprise'] });
    expect(bestIds(redis, TCP, 8443)).toEqual(['redis-enterprise.web-ui']);
    expect(bestIds(redis, TCP, 8080)).toEqual(['redis-enterprise.rest-api-http']);
    expect(bestIds(redis, TCP, 10072)).toEqual(['redis-enterprise.database-endpoints']);
    expect(redis.productFilter).toEqual(['redis-enterprise']);

    const edge = compileRules(set, { products: ['edgecomet', 'zeebe'] });
    expect(bestIds(edge, TCP, 6379)).toEqual(['edgecomet.redis']);
    expect(edge.group(edge.lookup(TCP, 6379)).ambiguous).toBe(false);
    expect(bestIds(edge, TCP, 8443)).toEqual([]);
    expect(edge.rules.every((r) => r.product === 'edgecomet' || r.product === 'zeebe')).toBe(true);

    const kg = compileRules(set, { products: ['kgateway'] });
    expect(bestIds(kg, TCP, 8081)).toEqual(['kgateway.mtls-envoy-sidecar-admin']);
    expect(bestIds(kg, TCP, 9966)).toEqual(['kgateway.gloo-proxy-debug-grpc']);
    const gme = compileRules(set, { products: ['gloo-mesh-enterprise'] });
    expect(bestIds(gme, TCP, 8083)).toEqual(['gloo-mesh-enterprise.extauth']);
  });

  it('an unknown product key is a usage error naming the known ones', () => {
    expect(() => compileRules(set, { products: ['edgecomet', 'redis'] })).toThrow(UsageError);
    expect(() => compileRules(set, { products: ['redis'] })).toThrow(
      "unknown product 'redis' in --products (known: edgecomet, gloo-mesh, gloo-mesh-enterprise, kgateway, redis-enterprise, zeebe)",
    );
  });

  it('udp and icmp', () => {
    expect(bestIds(index, UDP, 53)).toEqual(['redis-enterprise.dns']);
    expect(bestIds(index, UDP, 5353)).toEqual(['redis-enterprise.mdns']);
    expect(bestIds(index, 1, 0)).toEqual(['redis-enterprise.node-connectivity']);
  });

  it('Redis internode skips 3342 as the document does', () => {
    expect(bestIds(index, TCP, 3341)).toEqual(['redis-enterprise.internode']);
    expect(bestIds(index, TCP, 3342)).toEqual([]);
    expect(bestIds(index, TCP, 3343)).toEqual(['redis-enterprise.internode']);
  });
});
