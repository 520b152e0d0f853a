/** Service keys, ports of an ambiguity, and the hint that says how to resolve it. */
import { describe, expect, it } from 'vitest';
import type { RuleInfo, SessionInfo } from '../../../src/export/consumer.js';
import { ambiguityHint, ambiguousPort, candidatesOf, keyKind, productOfId, ruleIndex } from '../../../src/ui/view-model/rules.js';
import { formatPortRanges, intersectRanges, parsePortList, portInRanges } from '../../../src/ui/view-model/ports.js';
import { FIXTURE_RULES, fixtureInfo } from '../../helpers/dashboard-data.js';

function r(id: string, ports: string, protocols: string[]): RuleInfo {
  return { id, product: id.split('.')[0]!, component: id.split('.')[1]!, transport: 'tcp', ports, purpose: '', exposure: ['internal'], protocols, tls: 'unknown', cite: '', sourceDoc: 'x.txt' };
}

function infoWith(rules: RuleInfo[]): SessionInfo {
  return { ...fixtureInfo(), rules };
}

describe('ports', () => {
  it('parses, merges, intersects and formats rule port lists', () => {
    expect(parsePortList('3333-3341,3343-3344,36379,36380')).toEqual([[3333, 3341], [3343, 3344], [36379, 36380]]);
    expect(parsePortList('80, 8080, 81')).toEqual([[80, 81], [8080, 8080]]);
    expect(parsePortList('junk,70000,9-3,22')).toEqual([[22, 22]]);
    expect(intersectRanges(parsePortList('443,8443'), parsePortList('8443'))).toEqual([[8443, 8443]]);
    expect(formatPortRanges(intersectRanges(parsePortList('10000-19999'), parsePortList('15000-25000')))).toBe('15000-19999');
    expect(portInRanges(3340, parsePortList('3333-3341'))).toBe(true);
    expect(portInRanges(3342, parsePortList('3333-3341,3343-3344'))).toBe(false);
  });
});

describe('service keys', () => {
  it('tells rule ids, ambiguity, unknown and unclassified apart', () => {
    expect(keyKind('zeebe.gateway-grpc')).toBe('rule');
    expect(keyKind('ambiguous:a.x|b.y')).toBe('ambiguous');
    expect(candidatesOf('ambiguous:a.x|b.y')).toEqual(['a.x', 'b.y']);
    expect(candidatesOf('zeebe.gateway-grpc')).toEqual([]);
    expect(keyKind('unknown')).toBe('unknown');
    expect(keyKind('unclassified')).toBe('unclassified');
    expect(productOfId('zeebe.gateway-grpc', ruleIndex(null))).toBe('zeebe');
  });

  it('the port of an ambiguity is where the candidates overlap', () => {
    const idx = ruleIndex(infoWith([r('gloo-mesh.https', '443,8443', ['tls']), r('redis-enterprise.web-ui', '8443', ['tls'])]));
    expect(ambiguousPort(['gloo-mesh.https', 'redis-enterprise.web-ui'], idx).text).toBe('tcp/8443');
    expect(ambiguousPort(['nope.a', 'nope.b'], idx).text).toBe('');
  });
});

describe('ambiguityHint', () => {
  it('same protocols in different products: --products', () => {
    const idx = ruleIndex(fixtureInfo());
    expect(ambiguityHint(['edgecomet.redis', 'gloo-mesh-enterprise.redis'], idx)).toBe('same protocols (resp): --products edgecomet or gloo-mesh-enterprise');
  });

  it('different protocols: which payload evidence picks which candidate', () => {
    const idx = ruleIndex(infoWith([r('a.cache', '6379', ['resp']), r('b.api', '6379', ['http1'])]));
    expect(ambiguityHint(['a.cache', 'b.api'], idx)).toBe('payload evidence: resp -> a.cache, http1 -> b.api');
  });

  it('evidence resolves some, --products the rest', () => {
    const idx = ruleIndex(infoWith(FIXTURE_RULES));
    // kgateway.gloo-xds lists tls, gloo-mesh.gloo-xds does not: TLS evidence picks kgateway.
    expect(ambiguityHint(['gloo-mesh.gloo-xds', 'kgateway.gloo-xds'], idx)).toBe('payload evidence: tls -> kgateway.gloo-xds');
    const idx3 = ruleIndex(infoWith([r('a.x', '1', ['resp']), r('b.y', '1', []), r('c.z', '1', [])]));
    expect(ambiguityHint(['a.x', 'b.y', 'c.z'], idx3)).toBe('payload evidence: resp -> a.x; otherwise: --products b or c');
  });

  it('candidates of one product cannot be split by --products', () => {
    const idx = ruleIndex(infoWith([r('gloo-mesh.gateway-proxy-https', '8443', ['tls']), r('gloo-mesh.gateway-validation', '8443', [])]));
    expect(ambiguityHint(['gloo-mesh.gateway-proxy-https', 'gloo-mesh.gateway-validation'], idx)).toBe(
      'payload evidence: tls -> gloo-mesh.gateway-proxy-https',
    );
    const idx2 = ruleIndex(infoWith([r('gloo-mesh.a', '8443', []), r('gloo-mesh.b', '8443', [])]));
    expect(ambiguityHint(['gloo-mesh.a', 'gloo-mesh.b'], idx2)).toBe('gloo-mesh.a, gloo-mesh.b are both gloo-mesh: only a --rules override separates them');
  });

  it('unknown rules and single candidates do not break it', () => {
    const idx = ruleIndex(null);
    expect(ambiguityHint(['x.a', 'y.b'], idx)).toBe('same protocols (none documented): --products x or y');
    expect(ambiguityHint(['x.a'], idx)).toBe('');
  });
});
