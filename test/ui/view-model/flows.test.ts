/** Flow rows (the flows view and drill-downs) and alert rows. */
import { describe, expect, it } from 'vitest';
import { buildAlerts } from '../../../src/ui/view-model/alerts.js';
import { EMPTY_FILTER, parseFilter, type Filter } from '../../../src/ui/view-model/filter.js';
import { buildFlows, endpoint, evidenceText } from '../../../src/ui/view-model/flows.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { DEFAULT_SORT, chooseSort } from '../../../src/ui/view-model/sort.js';
import { fixtureInfo, fixtureUpdate } from '../../helpers/dashboard-data.js';

const info = fixtureInfo();

function frameAt(step: number): Frame {
  const b = new FrameBuilder();
  const u = fixtureUpdate(step);
  b.ingest(u);
  return b.build(u);
}

function filter(text: string): Filter {
  const p = parseFilter(text);
  if (!p.ok) throw new Error(p.error);
  return p.filter;
}

describe('buildFlows', () => {
  it('lists live flows (by rate/bytes) then recently ended ones', () => {
    const m = buildFlows(info, frameAt(10), DEFAULT_SORT, EMPTY_FILTER);
    expect(m.live.length).toBe(10);
    expect(m.ended.length).toBe(10);
    expect(m.live.every((f) => f.live)).toBe(true);
    expect(m.order.slice(0, 10)).toEqual(m.live.map((f) => f.id));
    const bytes = m.live.map((f) => f.bytesUp + f.bytesDown);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
    const rev = buildFlows(info, frameAt(10), chooseSort(DEFAULT_SORT, 'bytes'), EMPTY_FILTER);
    expect(rev.live.map((f) => f.id)).toEqual([...m.live.map((f) => f.id)].reverse());
  });

  it('rows: endpoints, service, verdict, per-direction counters, rate, RTT, age in capture time, evidence', () => {
    const m = buildFlows(info, frameAt(10), DEFAULT_SORT, EMPTY_FILTER);
    const web = m.live.find((f) => f.serviceKey === 'redis-enterprise.web-ui')!;
    expect(web.server).toBe('10.1.0.12:8443');
    expect(web.verdict).toBe('encrypted');
    expect(web.evidence).toBe('sni=cluster.example.com alpn=h2');
    expect(web.ageSec).toBe(30);
    expect(web.bytesUp).toBeGreaterThan(0);
    expect(web.bytesDown).toBeGreaterThan(web.bytesUp);
    expect(web.rttMs).toBeCloseTo(0.42);
    const ended = m.ended.find((f) => f.serviceKey === 'redis-enterprise.shards')!;
    expect(ended.verdict).toBe('mismatch');
    expect(ended.idleSec).toBe(3);
    expect(ended.bytesPerSec).toBe(0);
    expect(ended.end).toBe('idle-timeout');
    const amb = m.live.find((f) => f.serviceKey.startsWith('ambiguous:'))!;
    expect(amb.service).toBe('ambiguous: edgecomet.redis|gloo-mesh-enterprise.redis');
  });

  it('drill-down: only one service\'s flows, or only an alert\'s flow ids', () => {
    const f = frameAt(10);
    const m = buildFlows(info, f, DEFAULT_SORT, EMPTY_FILTER, { serviceKey: 'zeebe.gateway-grpc' });
    expect(m.shown).toBe(2);
    expect([...m.live, ...m.ended].every((x) => x.serviceKey === 'zeebe.gateway-grpc')).toBe(true);
    const byIds = buildFlows(info, f, DEFAULT_SORT, EMPTY_FILTER, { ids: [1003, 999_999] });
    expect(byIds.order).toEqual([1003]);
    expect(buildFlows(info, f, DEFAULT_SORT, EMPTY_FILTER, { serviceKey: 'nope' }).shown).toBe(0);
  });

  it('filters flows by address, port, SNI, product, verdict text', () => {
    const f = frameAt(10);
    const ids = (t: string) => buildFlows(info, f, DEFAULT_SORT, filter(t)).order;
    expect(ids('src:203.0.113.7')).toEqual([1011]);
    expect(ids('port:8443').length).toBe(2);
    expect(ids('sni:evil')).toEqual([1003]);
    expect(ids('product:zeebe').length).toBe(6);
    expect(ids('mismatch')).toEqual([1003]);
    expect(ids('-product:zeebe -product:redis-enterprise').length).toBe(8);
    const m = buildFlows(info, f, DEFAULT_SORT, filter('port:1'));
    expect(m.shown).toBe(0);
    expect(m.total).toBe(20);
  });

  it('formats endpoints and evidence', () => {
    expect(endpoint('fd00::1', 443, 'tcp')).toBe('[fd00::1]:443');
    expect(endpoint('10.0.0.1', 0, 'icmp')).toBe('10.0.0.1');
    expect(evidenceText({ protocol: 'http1', httpMethod: 'POST', httpPath: '/v1/x', host: 'h' })).toBe('http=POST /v1/x host=h');
    expect(evidenceText({ protocol: 'zeebe-sbe' })).toBe('proto=zeebe-sbe');
    expect(evidenceText({})).toBe('');
  });

  it('no frame / no detail: empty lists', () => {
    expect(buildFlows(info, null, DEFAULT_SORT, EMPTY_FILTER)).toEqual({ live: [], ended: [], order: [], shown: 0, total: 0, tunnelled: false, relayed: false });
    const u = fixtureUpdate(3, { detail: false });
    const b = new FrameBuilder();
    b.ingest(u);
    expect(buildFlows(info, b.build(u), DEFAULT_SORT, EMPTY_FILTER).shown).toBe(0);
  });
});

describe('buildAlerts', () => {
  it('newest first, kind in words, each with its flow ids', () => {
    const m = buildAlerts(info, frameAt(10), EMPTY_FILTER);
    expect(m.items.map((a) => [a.label, a.service, a.client])).toEqual([
      ['EXPOSURE', 'zeebe.broker-monitoring', '203.0.113.7'],
      ['MISMATCH', 'redis-enterprise.shards', '10.0.1.33'],
      ['UNDOC-PORT', 'unknown', '10.0.0.40'],
    ]);
    expect(m.items[0]!.flowIds).toEqual([1011]);
    expect(m.items[1]!.count).toBe(2);
    expect(m.order).toEqual(['exposure-violation|zeebe.broker-monitoring|203.0.113.7', 'mismatch|redis-enterprise.shards|10.0.1.33', 'undocumented-port|unknown|10.0.0.40']);
  });

  it('filters alerts', () => {
    const f = frameAt(10);
    expect(buildAlerts(info, f, filter('product:redis')).order).toEqual(['mismatch|redis-enterprise.shards|10.0.1.33']);
    expect(buildAlerts(info, f, filter('src:203.0.113.0/24')).items.map((a) => a.kind)).toEqual(['exposure-violation']);
    expect(buildAlerts(info, f, filter('MISMATCH')).shown).toBe(1);
    expect(buildAlerts(info, f, filter('port:7000')).items.map((a) => a.kind)).toEqual(['undocumented-port']);
    expect(buildAlerts(info, frameAt(0), EMPTY_FILTER).total).toBe(0);
  });
});
