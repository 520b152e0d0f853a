/** The services view model: grouping, sorting, filtering, rates, ambiguity, unknown traffic. */
import { describe, expect, it } from 'vitest';
import { parseFilter, EMPTY_FILTER, type Filter } from '../../../src/ui/view-model/filter.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { buildServices, unknownShare } from '../../../src/ui/view-model/services.js';
import { DEFAULT_SORT, chooseSort, nextSort, type SortOrder } from '../../../src/ui/view-model/sort.js';
import type { SessionUpdate } from '../../../src/export/consumer.js';
import { fixtureInfo, fixtureUpdate } from '../../helpers/dashboard-data.js';

function frameAt(step: number, from = 0): Frame {
  const b = new FrameBuilder();
  let u: SessionUpdate = fixtureUpdate(from);
  for (let i = from; i <= step; i++) {
    u = fixtureUpdate(i);
    b.ingest(u);
  }
  return b.build(u);
}

function filter(text: string): Filter {
  const p = parseFilter(text);
  if (!p.ok) throw new Error(p.error);
  return p.filter;
}

const info = fixtureInfo();

describe('buildServices', () => {
  it('groups product -> component with the rule port; ambiguous and unknown come after the products', () => {
    const m = buildServices(info, frameAt(20), DEFAULT_SORT, EMPTY_FILTER);
    expect(m.groups.map((g) => g.id)).toEqual(['redis-enterprise', 'zeebe', 'kgateway', 'edgecomet', 'ambiguous', 'unknown']);
    const redis = m.groups[0]!;
    expect(redis.rows.map((r) => [r.name, r.port])).toEqual([
      ['database endpoints', 'tcp/10000-19999'],
      ['database shards', 'tcp/20000-29999'],
      ['management web UI', 'tcp/8443'],
    ]);
    expect(redis.bytes).toBe(redis.rows.reduce((n, r) => n + r.bytes, 0));
    expect(m.shown).toBe(10);
    expect(m.total).toBe(10);
    expect(m.order[0]).toBe('redis-enterprise.database-endpoints');
    expect(m.order.at(-1)).toBe('unknown');
  });

  it('rows carry live/total flows, packets, bytes, verdicts and exposure violations', () => {
    const u = fixtureUpdate(20);
    const m = buildServices(info, frameAt(20), DEFAULT_SORT, EMPTY_FILTER);
    const shards = m.groups.flatMap((g) => g.rows).find((r) => r.key === 'redis-enterprise.shards')!;
    const snap = u.snapshot.services.find((s) => s.key === 'redis-enterprise.shards')!;
    expect(shards.flows).toBe(snap.flows);
    expect(shards.liveFlows).toBe(snap.liveFlows);
    expect(shards.bytes).toBe(snap.bytes.toServer + snap.bytes.toClient);
    expect(shards.packets).toBe(snap.packets.toServer + snap.packets.toClient);
    expect(shards.verdicts.mismatch).toBe(3);
    const monitoring = m.groups.flatMap((g) => g.rows).find((r) => r.key === 'zeebe.broker-monitoring')!;
    expect(monitoring.violations).toBe(1);
  });

  it('current rate and 60 s series come from successive updates', () => {
    const f = frameAt(20);
    const m = buildServices(info, f, DEFAULT_SORT, EMPTY_FILTER);
    const row = m.groups[0]!.rows[0]!;
    // ~90,000 B per 250 ms step (plus a wave): about 360 kB/s.
    expect(row.bytesPerSec).toBeGreaterThan(250_000);
    expect(row.bytesPerSec).toBeLessThan(470_000);
    expect(row.series).toHaveLength(60);
    expect(row.series.filter((x) => x > 0).length).toBeGreaterThanOrEqual(4);
    // A single update gives no rate yet.
    const first = buildServices(info, frameAt(0), DEFAULT_SORT, EMPTY_FILTER);
    expect(first.groups.flatMap((g) => g.rows).every((r) => r.bytesPerSec === 0)).toBe(true);
  });

  it('sorts rows and product groups by bytes, rate, flows, name; the same order again reverses', () => {
    const f = frameAt(20);
    const names = (s: SortOrder) => buildServices(info, f, s, EMPTY_FILTER).groups.find((g) => g.id === 'redis-enterprise')!.rows.map((r) => r.key);
    const groups = (s: SortOrder) => buildServices(info, f, s, EMPTY_FILTER).groups.map((g) => g.id);
    expect(names(DEFAULT_SORT)).toEqual(['redis-enterprise.database-endpoints', 'redis-enterprise.shards', 'redis-enterprise.web-ui']);
    const byName = chooseSort(DEFAULT_SORT, 'name');
    expect(groups(byName).slice(0, 4)).toEqual(['edgecomet', 'kgateway', 'redis-enterprise', 'zeebe']);
    expect(names(byName)).toEqual(['redis-enterprise.database-endpoints', 'redis-enterprise.shards', 'redis-enterprise.web-ui']);
    const reversed = chooseSort(byName, 'name');
    expect(reversed).toEqual({ key: 'name', reverse: true });
    expect(groups(reversed).slice(0, 4)).toEqual(['zeebe', 'redis-enterprise', 'kgateway', 'edgecomet']);
    expect(names(reversed)).toEqual(['redis-enterprise.web-ui', 'redis-enterprise.shards', 'redis-enterprise.database-endpoints']);
    // Pinned groups stay last in every order.
    expect(groups(reversed).slice(-2)).toEqual(['ambiguous', 'unknown']);
    const byBytesReversed = chooseSort(DEFAULT_SORT, 'bytes');
    expect(names(byBytesReversed)).toEqual(['redis-enterprise.web-ui', 'redis-enterprise.shards', 'redis-enterprise.database-endpoints']);
    const byFlows = chooseSort(DEFAULT_SORT, 'flows');
    const zeebe = buildServices(info, f, byFlows, EMPTY_FILTER).groups.find((g) => g.id === 'zeebe')!;
    expect(zeebe.rows.map((r) => r.flows)).toEqual([...zeebe.rows.map((r) => r.flows)].sort((a, b) => b - a));
  });

  it('s cycles bytes -> rate -> flows -> name -> bytes', () => {
    let s = DEFAULT_SORT;
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(s.key);
      s = nextSort(s);
    }
    expect(seen).toEqual(['bytes', 'rate', 'flows', 'name', 'bytes']);
  });

  it('filters with field syntax; negation; the unknown row keeps only matching ports', () => {
    const f = frameAt(20);
    const keys = (text: string) => buildServices(info, f, DEFAULT_SORT, filter(text)).order;
    expect(keys('product:zeebe')).toEqual(['zeebe.gateway-grpc', 'zeebe.broker-command-api', 'zeebe.broker-monitoring']);
    expect(keys('!product:zeebe')).not.toContain('zeebe.gateway-grpc');
    expect(keys('service:web-ui')).toEqual(['redis-enterprise.web-ui']);
    expect(keys('port:8443')).toEqual(['redis-enterprise.web-ui']);
    expect(keys('port:15000')).toEqual(['redis-enterprise.database-endpoints']);
    expect(keys('port:6379')).toEqual(['ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis']);
    expect(keys('product:edgecomet')).toEqual(['edgecomet.edge-gateway-http', 'ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis']);
    expect(keys('sni:cluster')).toEqual(['redis-enterprise.web-ui']);
    expect(keys('src:203.0.113.7')).toEqual(['zeebe.broker-monitoring']);
    expect(keys('dst:10.2.0.6')).toEqual(['zeebe.broker-command-api', 'zeebe.broker-monitoring']);
    expect(keys('shards')).toEqual(['redis-enterprise.shards']);
    const m = buildServices(info, f, DEFAULT_SORT, filter('port:7000'));
    expect(m.order).toEqual(['unknown']);
    expect(m.groups[0]!.rows[0]!.unknownPorts.map((p) => p.port)).toEqual([7000]);
    expect(m.shown).toBe(1);
    expect(m.total).toBe(10);
  });

  it('an ambiguous row shows its candidates and what would resolve them', () => {
    const m = buildServices(info, frameAt(5), DEFAULT_SORT, EMPTY_FILTER);
    const amb = m.groups.find((g) => g.kind === 'ambiguous')!.rows[0]!;
    expect(amb.candidates).toEqual(['edgecomet.redis', 'gloo-mesh-enterprise.redis']);
    expect(amb.port).toBe('tcp/6379');
    expect(amb.hint).toBe('same protocols (resp): --products edgecomet or gloo-mesh-enterprise');
  });

  it('unknown traffic is a group with its busiest ports, and the header share', () => {
    const f = frameAt(10);
    const m = buildServices(info, f, DEFAULT_SORT, EMPTY_FILTER);
    const unknown = m.groups.find((g) => g.kind === 'unknown')!;
    expect(unknown.rows[0]!.unknownPorts.map((p) => `${p.transport}/${p.port}`)).toEqual(['tcp/5432', 'tcp/7000', 'udp/4789']);
    const share = unknownShare(f);
    expect(share.fraction).toBeGreaterThan(0.01);
    expect(share.fraction).toBeLessThan(0.2);
    expect(share.ports).toEqual(['tcp/5432', 'tcp/7000', 'udp/4789']);
  });

  it('odd data: no frame, no rules, no detail, empty services, unknown rule ids', () => {
    expect(buildServices(null, null, DEFAULT_SORT, EMPTY_FILTER)).toEqual({ groups: [], order: [], shown: 0, total: 0, tunnelled: false, relayed: false });
    const noDetail = fixtureUpdate(5, { detail: false });
    const b = new FrameBuilder();
    b.ingest(noDetail);
    const m = buildServices({ ...info, rules: [] }, b.build(noDetail), DEFAULT_SORT, filter('src:10.0.0.1'));
    expect(m.shown).toBe(0);
    const m2 = buildServices({ ...info, rules: [] }, b.build(noDetail), DEFAULT_SORT, EMPTY_FILTER);
    expect(m2.groups.find((g) => g.id === 'zeebe')!.rows[0]!.port).toBe('');
    const u = fixtureUpdate(3);
    u.snapshot.services = [
      { ...u.snapshot.services[0]!, key: 'unclassified', id: null, product: null, component: null, candidates: [] },
      { ...u.snapshot.services[0]!, key: 'ambiguous:', id: null, product: null, component: null, candidates: [] },
      { ...u.snapshot.services[0]!, key: 'x'.repeat(5000), bytes: { toServer: 1e300, toClient: 1e300 } },
    ];
    const b2 = new FrameBuilder();
    b2.ingest(u);
    const m3 = buildServices(info, b2.build(u), DEFAULT_SORT, EMPTY_FILTER);
    expect(m3.groups.map((g) => g.kind).sort()).toEqual(['ambiguous', 'product', 'unclassified']);
  });
});
