/**
 * The coverage view on what portsniff really produces: while running, built from the session's
 * rules and the snapshot (a rule is seen once a flow was classified to it or tied for it, any of
 * its ports); at the end, the summary's exact report (per port and range). The two differ on
 * purpose in the cases the view's note explains, and both cases occur in the generated captures.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SessionUpdate } from '../../../src/export/consumer.js';
import { buildCoverage, seenRuleIds } from '../../../src/ui/view-model/coverage.js';
import { coverageNote, coverageScreen, coverageSummary } from '../../../src/ui/view-model/coverage-lines.js';
import { portDetailLines } from '../../../src/ui/view-model/detail-lines.js';
import { EMPTY_FILTER, parseFilter, type Filter } from '../../../src/ui/view-model/filter.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { text } from '../../../src/ui/view-model/lines.js';
import { DEMO_CAPTURE } from '../../../fixtures/gen/demo.js';
import { FLEET_CAPTURE } from '../../../fixtures/gen/fleet.js';
import { recordSession, updateAfter, type RecordedSession } from '../../helpers/capture-session.js';

function frameOf(u: SessionUpdate): Frame {
  const b = new FrameBuilder();
  b.ingest(u);
  return b.build(u);
}

function filter(t: string): Filter {
  const p = parseFilter(t);
  if (!p.ok) throw new Error(p.error);
  return p.filter;
}

let demo: RecordedSession;
let fleet: RecordedSession;
beforeAll(async () => {
  demo = await recordSession(DEMO_CAPTURE);
  fleet = await recordSession(FLEET_CAPTURE);
}, 60_000);

describe('coverage while running', () => {
  it('lists the session\'s rules without a flow so far, by product, and counts the seen ones', () => {
    const f = frameOf(updateAfter(DEMO_CAPTURE, 0.5));
    const m = buildCoverage(demo.info, f, null, EMPTY_FILTER);
    const seen = seenRuleIds(f);
    expect(m.final).toBe(false);
    expect(m.rules).toBe(demo.info.rules.length);
    expect(m.seenRules).toBe(seen.size);
    expect(m.unseen.map((u) => u.id).sort()).toEqual(demo.info.rules.filter((r) => !seen.has(r.id)).map((r) => r.id).sort());
    expect(m.unseen.map((u) => u.product)).toEqual([...m.unseen.map((u) => u.product)].sort());
    // Ties count for every candidate: both 6379 rules are seen through the ambiguous row.
    expect(seen.has('edgecomet.redis') && seen.has('gloo-mesh-enterprise.redis')).toBe(true);
    // Seen grows as the capture goes on, never shrinks.
    const end = buildCoverage(demo.info, frameOf(demo.updates.at(-1)!), null, EMPTY_FILTER);
    expect(end.seenRules).toBeGreaterThan(m.seenRules);
    expect(end.unseen.every((u) => m.unseen.some((x) => x.id === u.id))).toBe(true);
  });

  it('a rule with several ports counts as seen once one had a flow; the final report names the others', () => {
    const running = buildCoverage(fleet.info, frameOf(fleet.updates.at(-1)!), null, EMPTY_FILTER);
    const final = buildCoverage(fleet.info, frameOf(fleet.updates.at(-1)!), fleet.end.summary, EMPTY_FILTER);
    expect(running.unseen.find((u) => u.id === 'redis-enterprise.internode')).toBeUndefined();
    expect(final.unseen.find((u) => u.id === 'redis-enterprise.internode')).toMatchObject({ ports: 'tcp/3343-3344,36379,36380', partial: true });
    // And the other way: a range holding another rule's port is seen in the final report only.
    const demoRunning = buildCoverage(demo.info, frameOf(demo.updates.at(-1)!), null, EMPTY_FILTER);
    const demoFinal = buildCoverage(demo.info, frameOf(demo.updates.at(-1)!), demo.end.summary, EMPTY_FILTER);
    expect(demoRunning.unseen.find((u) => u.id === 'edgecomet.edge-gateway-block')).toMatchObject({ ports: 'tcp/10070-10079', partial: false });
    expect(demoFinal.unseen.find((u) => u.id === 'edgecomet.edge-gateway-block')).toBeUndefined();
    // The view says which definition it shows.
    expect(coverageNote(running)).toMatch(/classified to the rule .*several ports or a range count as seen once one had a flow.*final report checks each port and range/);
    expect(coverageNote(final)).toMatch(/classified flow used a port inside the documented port or range/);
  });

  it('unknown ports with what was seen there; a product protocol names the rules that document it', () => {
    const f = frameOf(updateAfter(FLEET_CAPTURE, 0.7));
    const m = buildCoverage(fleet.info, f, null, EMPTY_FILTER);
    expect(m.unknown.map((p) => p.key)).toEqual(f.update.snapshot.detail!.unknownPorts.map((p) => `port:${p.transport}/${p.port}`));
    const resp = m.unknown.find((p) => p.key === 'port:tcp/7000')!;
    expect(resp.payload).toBe('resp');
    expect(resp.documented).toEqual([{ protocol: 'resp', rules: expect.arrayContaining(['edgecomet.redis', 'redis-enterprise.database-endpoints']) }]);
    expect(resp.liveFlows).not.toBeNull();
    // Generic protocols prove nothing: gRPC on 9000 names no rule.
    const grpc = buildCoverage(fleet.info, frameOf(fleet.updates.at(-1)!), null, EMPTY_FILTER).unknown.find((p) => p.port === 9000);
    expect(grpc?.payload).toBe('grpc');
    expect(grpc?.documented).toEqual([]);
  });
});

describe('coverage at the end of a replay', () => {
  it('is the summary\'s report: per port spec, every unknown port counted, payload per flow', () => {
    const cov = fleet.end.summary.coverage!;
    const m = buildCoverage(fleet.info, frameOf(fleet.updates.at(-1)!), fleet.end.summary, EMPTY_FILTER);
    expect(m.final).toBe(true);
    expect([m.portSpecs, m.portSpecsUnseen, m.unknownPortCount]).toEqual([cov.documented.portSpecs, cov.documented.portSpecsUnseen, cov.unknownPortCount]);
    expect(m.unseen.map((u) => u.id).sort()).toEqual(cov.unseen.map((u) => u.rule).sort());
    expect(m.unknown.map((p) => [p.transport, p.port, p.flows, p.packets, p.bytes])).toEqual(cov.unknownPorts.map((p) => [p.transport, p.port, p.flows, p.packets, p.bytes]));
    expect(m.unknown.find((p) => p.port === 7000)!.payload).toBe('resp 22');
    expect(m.unknown.find((p) => p.port === 5432)!.payload).toBe('unrecognised 4');
    expect(coverageSummary(m)).toBe(`final report: ${cov.documented.portSpecsUnseen} of ${cov.documented.portSpecs} documented ports and ranges saw no flow (${cov.documented.rules} rules)`);
  });

  it('filters both lists; rows are keyed for selection; the screen fits and keeps the note in view', () => {
    const f = frameOf(fleet.updates.at(-1)!);
    const m = buildCoverage(fleet.info, f, fleet.end.summary, filter('product:zeebe'));
    expect(m.unknown).toEqual([]);
    expect(m.unseen.every((u) => u.product === 'zeebe')).toBe(true);
    expect(buildCoverage(fleet.info, f, fleet.end.summary, filter('port:7000')).unknown.map((p) => p.port)).toEqual([7000]);
    expect(buildCoverage(fleet.info, f, fleet.end.summary, filter('service:edgecomet.redis')).unknown.map((p) => p.port)).toEqual([7000]);
    const all = buildCoverage(fleet.info, f, fleet.end.summary, EMPTY_FILTER);
    expect(all.order[0]).toBe('port:tcp/7000');
    expect(all.order.filter((k) => k.startsWith('rule:'))).toHaveLength(all.unseen.length);
    for (const [w, h] of [[80, 17], [120, 40], [40, 6]] as const) {
      const s = coverageScreen(all, { width: w, height: h, selected: all.order.at(-1)! });
      expect(s.body).toHaveLength(h);
      for (const l of s.body) expect(text(l).length).toBeLessThanOrEqual(w);
      // The selected (last) rule is in the window, the summary line stays at the bottom.
      expect(s.body.some((l) => l.selected === true)).toBe(true);
      if (h > 6) expect(s.body.map(text).join('\n')).toContain('final report:');
    }
  });

  it('a port drill-down says what was seen and who documents that protocol', () => {
    const m = buildCoverage(fleet.info, frameOf(fleet.updates.at(-1)!), fleet.end.summary, EMPTY_FILTER);
    const lines = portDetailLines(m.unknown[0]!, 'tcp/7000', true, { width: 100 }).map((l) => text(l).trimEnd());
    expect(lines[0]).toBe('tcp/7000: no rule documents this server port');
    expect(lines[1]).toMatch(/^ {2}traffic {3}22 flows · 396 pkts · 25\.\d KiB$/);
    expect(lines.join('\n')).toMatch(/payload +resp 22 · resp is documented for edgecomet\.redis/);
    expect(portDetailLines(null, 'tcp/1', true, { width: 100 }).map(text).join('\n')).toContain('not among the busiest unknown ports of the final report');
  });

  it('rules off: nothing documented, nothing to cover', () => {
    const m = buildCoverage({ ...demo.info, rules: [] }, frameOf(demo.updates.at(-1)!), null, EMPTY_FILTER);
    expect(m.rulesOff).toBe(true);
    expect(coverageScreen(m, { width: 80, height: 10, selected: null }).body.map(text).join('\n')).toContain('rules are off (--no-rules)');
  });
});
