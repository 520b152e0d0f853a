/** The coverage report from port accounting: unseen port specs per rule (ranges, icmp), the busiest unknown ports. */
import { describe, expect, it } from 'vitest';
import { buildCoverage, describePayload } from '../../src/export/coverage.js';
import type { RuleInfo } from '../../src/export/consumer.js';
import { portStatsData, type UnknownPortStats } from '../../src/pipeline/port-stats.js';

function rule(id: string, transport: string, ports: string): RuleInfo {
  return { id, product: id.split('.')[0]!, component: '', transport, ports, purpose: '', exposure: [], protocols: [], tls: 'unknown', cite: '', sourceDoc: '' };
}

describe('buildCoverage', () => {
  const rules = [rule('a.db', 'tcp', '10000-19999'), rule('a.api', 'tcp', '9443,8080'), rule('a.icmp', 'icmp', ''), rule('b.dns', 'udp', '53')];
  const unknown: UnknownPortStats[] = [
    { transport: 'tcp' as const, port: 22, flows: 1, packets: 20, bytes: 9000, payload: { unrecognised: 1 } },
    { transport: 'tcp' as const, port: 7000, flows: 9, packets: 90, bytes: 9000, payload: { resp: 9 } },
    { transport: 'udp' as const, port: 8125, flows: 3, packets: 3, bytes: 300, payload: { unrecognised: 3 } },
  ];

  it('a range is seen when any port inside it was; listed specs are the unseen ones, as written', () => {
    const c = buildCoverage(portStatsData({ tcp: [8080, 19999], udp: [], sctp: [] }, [], unknown), rules, null);
    expect(c.documented).toEqual({ rules: 4, portSpecs: 5, portSpecsUnseen: 3 });
    expect(c.unseen).toEqual([
      { rule: 'a.api', product: 'a', transport: 'tcp', ports: '9443' },
      { rule: 'a.icmp', product: 'a', transport: 'icmp', ports: '' },
      { rule: 'b.dns', product: 'b', transport: 'udp', ports: '53' },
    ]);
    const edge = buildCoverage(portStatsData({ tcp: [9999, 20000], udp: [], sctp: [] }, ['a.icmp'], []), rules, null);
    expect(edge.unseen.map((u) => u.rule)).toEqual(['a.api', 'a.db', 'b.dns']);
  });

  it('--products limits the rules; unknown ports by bytes, then flows; top N', () => {
    const c = buildCoverage(portStatsData({ tcp: [], udp: [], sctp: [] }, [], unknown), rules, ['b'], 2);
    expect(c.documented.rules).toBe(1);
    expect(c.unknownPortCount).toBe(3);
    expect(c.unknownPorts.map((u) => `${u.transport}/${u.port}`)).toEqual(['tcp/7000', 'tcp/22']);
    expect(describePayload(c.unknownPorts[0]!.payload)).toBe('resp 9');
    expect(describePayload({})).toBe('-');
  });
});
