import { describe, expect, it } from 'vitest';
import { decidePorts } from '../../src/classify/port-decision.js';
import { compileRules } from '../../src/rules/compile.js';
import { mkRule, mkSet } from '../rules/rule-builders.js';

const index = compileRules(mkSet([
  mkRule('db.endpoints', 'tcp', ['10000-19999']),
  mkRule('edge.block', 'tcp', ['10070-10079']),
  mkRule('edge.main', 'tcp', [10070]),
  mkRule('a.https', 'tcp', [8443]),
  mkRule('b.https', 'tcp', [8443]),
  mkRule('dns.server', 'udp', [53]),
  mkRule('nodes.ping', 'icmp', []),
]));

const ids = (cs: readonly { rule: { id: string } }[]): string[] => cs.map((c) => c.rule.id);

describe('decidePorts', () => {
  it('matches the server port first; lower tiers become alternatives', () => {
    const d = decidePorts(index, 6, 10070, 10075);
    expect(d.basis).toBe('server-port');
    expect(d.port).toBe(10070);
    expect(ids(d.candidates)).toEqual(['edge.main']);
    expect(ids(d.alternatives)).toEqual(['edge.block', 'db.endpoints']);
    expect(d.alternatives.map((c) => c.tier)).toEqual([1, 2]);
    expect(d.ambiguous).toBe(false);
  });

  it('a server-port match wins even when the client port would be more specific', () => {
    const d = decidePorts(index, 6, 15000, 8443);
    expect(d.basis).toBe('server-port');
    expect(ids(d.candidates)).toEqual(['db.endpoints']);
  });

  it('falls back to the client port only when the server port matches nothing', () => {
    const d = decidePorts(index, 6, 51234, 8443);
    expect(d.basis).toBe('client-port');
    expect(d.port).toBe(8443);
    expect(ids(d.candidates)).toEqual(['a.https', 'b.https']);
    expect(d.ambiguous).toBe(true);
    expect(d.alternatives).toEqual([]);
  });

  it('none when neither port matches, or the transport has no rules', () => {
    expect(decidePorts(index, 6, 51234, 40000)).toEqual({ basis: 'none', port: null, candidates: [], alternatives: [], ambiguous: false });
    expect(decidePorts(index, 17, 8443, 8443).basis).toBe('none');
    expect(decidePorts(index, 132, 53, 53).basis).toBe('none');
  });

  it('udp uses its own table', () => {
    const d = decidePorts(index, 17, 53, 33000);
    expect([d.basis, ids(d.candidates)]).toEqual(['server-port', ['dns.server']]);
  });

  it('icmp and icmpv6 decide on the transport alone', () => {
    for (const proto of [1, 58]) {
      const d = decidePorts(index, proto, 0, 0);
      expect(d.basis).toBe('transport');
      expect(d.port).toBeNull();
      expect(ids(d.candidates)).toEqual(['nodes.ping']);
    }
    const noIcmp = compileRules(mkSet([mkRule('a.web', 'tcp', [80])]));
    expect(decidePorts(noIcmp, 1, 0, 0).basis).toBe('none');
  });
});
