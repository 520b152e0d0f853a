/** Screen lines: every layout fits the width it is given, the window follows the selection. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildAlerts } from '../../../src/ui/view-model/alerts.js';
import { alertsScreen } from '../../../src/ui/view-model/alerts-lines.js';
import { filterBar, footerLine, helpLines, tabBar } from '../../../src/ui/view-model/chrome-lines.js';
import { alertDetailLines, flowDetailLines, serviceDetailLines } from '../../../src/ui/view-model/detail-lines.js';
import { EMPTY_FILTER } from '../../../src/ui/view-model/filter.js';
import { buildFlows, flowItem } from '../../../src/ui/view-model/flows.js';
import { flowsScreen } from '../../../src/ui/view-model/flows-lines.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { headerLines } from '../../../src/ui/view-model/header-lines.js';
import { lineWidth, text, type Line } from '../../../src/ui/view-model/lines.js';
import { buildServices } from '../../../src/ui/view-model/services.js';
import { checksText, servicesScreen, windowStart } from '../../../src/ui/view-model/services-lines.js';
import { DEFAULT_SORT } from '../../../src/ui/view-model/sort.js';
import { initialUi, reduce, type AppState } from '../../../src/ui/view-model/state.js';
import { fixtureInfo, fixtureUpdate, rulesForRows } from '../../helpers/dashboard-data.js';
import type { SessionUpdate } from '../../../src/export/consumer.js';

function frames(n: number, o: Parameters<typeof fixtureUpdate>[1] = {}): Frame {
  const b = new FrameBuilder();
  let u: SessionUpdate = fixtureUpdate(0, o);
  for (let i = 0; i <= n; i++) {
    u = fixtureUpdate(i, o);
    b.ingest(u);
  }
  return b.build(u);
}

const info = fixtureInfo();
const frame = frames(12);

function widths(lines: readonly Line[]): number[] {
  return lines.map(lineWidth);
}

describe('services screen', () => {
  it('every line is exactly the terminal width, at every width', () => {
    const model = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    for (const w of [40, 60, 79, 80, 100, 120, 159, 160, 250]) {
      const s = servicesScreen(model, { width: w, height: 20, sort: DEFAULT_SORT, unit: 'bits', selected: null });
      expect(lineWidth(s.header), `header at ${w}`).toBe(w);
      for (const l of s.body) expect(lineWidth(l), `${w}: ${text(l)}`).toBe(w);
      expect(s.body.length).toBeLessThanOrEqual(20);
    }
  });

  it('80 columns: sorted column marked, products grouped, ambiguity spelled out, unknown row kept in view', () => {
    const model = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    const s = servicesScreen(model, { width: 80, height: 16, sort: DEFAULT_SORT, unit: 'bits', selected: 'zeebe.gateway-grpc' });
    const all = [text(s.header), ...s.body.map(text)];
    const taller = servicesScreen(model, { width: 80, height: 20, sort: DEFAULT_SORT, unit: 'bits', selected: null }).body.map(text);
    expect(all[0]).toMatch(/SERVICE\s+PORT\s+LIVE\/ALL\s+BYTES▼\s+RATE\s+60s\s+CHECKS/);
    expect(all.some((l) => /^redis-enterprise \(3\)/.test(l))).toBe(true);
    expect(all.some((l) => /^> gateway\s+26500/.test(l))).toBe(true);
    expect(taller.some((l) => l.includes('candidates: edgecomet.redis | gloo-mesh-enterprise.redis'))).toBe(true);
    expect(taller.some((l) => l.includes('resolve: same protocols (resp): --products edgecomet or gloo-mesh-enterprise'))).toBe(true);
    // The table is taller than 16 lines: the unknown row is pinned at the bottom anyway.
    expect(all.at(-2)).toMatch(/^ {2}unknown: no rule/);
    expect(all.at(-1)).toMatch(/busiest: tcp\/5432 .* · tcp\/7000 http .* · udp\/4789/);
  });

  it('the window scrolls to keep the selected row visible', () => {
    const rules = rulesForRows(60);
    const big = frames(8, { rules });
    const model = buildServices({ ...info, rules }, big, DEFAULT_SORT, EMPTY_FILTER);
    const last = model.order.at(-2)!;
    const s = servicesScreen(model, { width: 100, height: 15, sort: DEFAULT_SORT, unit: 'bits', selected: last });
    expect(s.firstLine).toBeGreaterThan(0);
    expect(s.body.filter((l) => l.selected).length).toBe(1);
    expect(windowStart(0, 100, 10)).toBe(0);
    expect(windowStart(50, 100, 10)).toBe(43);
    expect(windowStart(99, 100, 10)).toBe(90);
    expect(windowStart(5, 3, 10)).toBe(0);
    expect(windowStart(5, 30, 0)).toBe(0);
  });

  it('checks: alarms first, "-" for nothing', () => {
    const model = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    const rows = model.groups.flatMap((g) => g.rows);
    expect(checksText(rows.find((r) => r.key === 'redis-enterprise.shards')!)).toMatch(/^✗\d+ ✓\d+$/);
    expect(checksText(rows.find((r) => r.key === 'zeebe.broker-monitoring')!)).toMatch(/^!\d+ ✓\d+$/);
    expect(checksText(rows.find((r) => r.key === 'redis-enterprise.web-ui')!)).toMatch(/^e\d+$/);
    expect(checksText(rows.find((r) => r.key === 'unknown')!)).toBe('-');
  });
});

describe('other screens fit too', () => {
  it('property: flows, alerts, header, footer, details, help never exceed the width', () => {
    const flows = buildFlows(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    const alerts = buildAlerts(info, frame, EMPTY_FILTER);
    const services = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    const row = services.groups.flatMap((g) => g.rows);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 260 }), fc.integer({ min: 0, max: 80 }), (w, h) => {
        const all: Line[] = [
          ...flowsScreen(flows, { width: w, height: h, sort: DEFAULT_SORT, unit: 'bits', selected: '1003' }).body,
          ...alertsScreen(alerts, { width: w, height: h, selected: null }).body,
          ...headerLines({ info, frame, status: 'running', paused: true, unit: 'bytes', width: w }),
          footerLine(initialUi({ columns: w, rows: h }), 'finished', w, null),
          ...serviceDetailLines(info, 'ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis', row.find((r) => r.kind === 'ambiguous')!, { width: w, height: h, unit: 'bits' }),
          ...serviceDetailLines(info, 'unknown', row.find((r) => r.kind === 'unknown')!, { width: w, height: h, unit: 'bits' }),
          ...serviceDetailLines(info, 'redis-enterprise.shards', null, { width: w, height: h, unit: 'bits' }),
          ...alertDetailLines(alerts.items[0]!, alerts.items[0]!.id, { width: w }),
          ...flowDetailLines(flows.live[0]!, flows.live[0]!.id, { width: w, height: h, unit: 'bits' }),
          ...helpLines(w, h),
        ];
        for (const l of all) expect(lineWidth(l)).toBeLessThanOrEqual(Math.max(w, 10));
      }),
      { numRuns: 150 },
    );
  });
});

describe('header', () => {
  it('replay: source, rates, totals, progress with % and ETA, attention line', () => {
    const lines = headerLines({ info, frame, status: 'running', paused: false, unit: 'bits', width: 100 }).map(text);
    expect(lines[0]).toMatch(/^portsniff replay demo\.pcap · 10x/);
    expect(lines[1]).toMatch(/^now +[\d.]+ kp\/s +[\d.]+ Mb\/s │ total +[\d.]+k pkts +[\d.]+ [KM]iB │ flows +\d+ \(\d+ live\)$/);
    expect(lines[2]).toMatch(/^█+░+ +30% ETA +0:07 · elapsed +0:03 · anomalies 2 · workers 1$/);
    // The undocumented-port alert of the Alerts view counts too (its flows), shown only when there is one.
    expect(text(headerLines({ info, frame, status: 'running', paused: false, unit: 'bits', width: 120 })[3]!)).toMatch(/^mismatch 2 · exposure! 1 · undoc-port 1 · ambiguous 1 · unknown \d+% of bytes \(tcp\/5432, tcp\/7000, udp\/4789\)$/);
  });

  it('the attention line counts undocumented-port alerts (their flows) only when there are some', () => {
    const snap = frame.update.snapshot;
    const withAlerts = (alerts: NonNullable<typeof snap.detail>["alerts"]) => ({ ...frame, update: { ...frame.update, snapshot: { ...snap, detail: { ...snap.detail!, alerts } } } });
    const undocumented = snap.detail!.alerts.find((a) => a.kind === 'undocumented-port')!;
    const line = (f: typeof frame) => text(headerLines({ info, frame: f, status: 'running', paused: false, unit: 'bits', width: 120 })[3]!);
    expect(line(withAlerts(snap.detail!.alerts.filter((a) => a.kind !== 'undocumented-port')))).toMatch(/^mismatch 2 · exposure! 1 · ambiguous 1 /);
    expect(line(withAlerts([...snap.detail!.alerts, { ...undocumented, client: '10.0.0.41', count: 4 }]))).toMatch(/ · undoc-port 5 · /);
  });

  it('live: drops per counter ("unknown" where the backend cannot know), PAUSED badge kept at any width', () => {
    const liveFrame = frames(6, { kind: 'live' });
    const liveInfo = fixtureInfo({ kind: 'live' });
    const lines = headerLines({ info: liveInfo, frame: liveFrame, status: 'running', paused: true, unit: 'bytes', width: 80 }).map(text);
    expect(lines[0]).toMatch(/^portsniff live eth0 · tcpdump · filter "tcp" +PAUSED $/);
    expect(lines[1]).toMatch(/B\/s/);
    expect(lines[2]).toMatch(/^drops kernel 0 iface unknown engine 0 · elapsed/);
    const narrow = headerLines({ info: liveInfo, frame: liveFrame, status: 'running', paused: true, unit: 'bytes', width: 30 }).map(text);
    expect(narrow[0]).toContain('PAUSED');
    expect(narrow.every((l) => l.length <= 30)).toBe(true);
  });

  it('before the first update and without a size of file', () => {
    const lines = headerLines({ info: fixtureInfo({ totalBytes: null }), frame: null, status: 'running', paused: false, unit: 'bits', width: 80 }).map(text);
    expect(lines[1]).toMatch(/^now +0 p\/s +0 b\/s/);
    expect(lines[2]).toMatch(/^read 0 B · elapsed/);
    expect(headerLines({ info: null, frame: null, status: 'finished', paused: false, unit: 'bits', width: 80 }).map(text)[0]).toContain('FINISHED');
  });
});

describe('footer, filter bar, tab bar', () => {
  const base: AppState = { ui: initialUi({ columns: 80, rows: 24 }), info, frame, status: 'running' };
  it('the footer lists the keys; a finished replay says q quits', () => {
    expect(text(footerLine(base.ui, 'running', 80, null))).toBe('q quit  ? help  p pause  s sort  / filter  tab view  ⏎ open  esc back  b units  ');
    expect(text(footerLine(base.ui, 'finished', 80, null))).toMatch(/^ replay finished: q to quit {2}\? help/);
    expect(text(footerLine(base.ui, 'stopping', 80, null))).toMatch(/^ stopping/);
  });

  it('the filter bar shows the text, a cursor, and either the match count or the error', () => {
    const typing = reduce(base, { type: 'keys', input: '/port:6379', key: {} });
    expect(text(filterBar(typing.ui, 80, { rows: 1, total: 10 }))).toMatch(/^\/ port:6379█ +✓ 1 of 10 {2}⏎ keep · esc clear$/);
    const bad = reduce(typing, { type: 'keys', input: 'x', key: {} });
    expect(text(filterBar(bad.ui, 80, null))).toMatch(/^\/ port:6379x█ +✗ port: '6379x' is not a port/);
    const long = reduce(base, { type: 'keys', input: `/${'a'.repeat(150)}`, key: {} });
    expect(lineWidth(filterBar(long.ui, 80, null))).toBeLessThanOrEqual(80);
  });

  it('the tab bar brackets the current view (no colour needed) and shows sort, filter, position', () => {
    const filtered = reduce(base, { type: 'keys', input: '/zeebe\r', key: {} });
    const l = text(tabBar(filtered.ui, { services: 10, flows: 20, alerts: 2, coverage: 9 }, '1/3', 80, []));
    expect(l).toMatch(/^\[Services 10\] +Flows 20 +Alerts 2 +Coverage 9 +sort bytes▼ · filter zeebe · 1\/3$/);
    // Too long for 80 columns with the padding: the tabs give it up first.
    expect(l).toMatch(/^\[Services 10\] Flows 20 Alerts 2 Coverage 9 /);
    const alerts = reduce(base, { type: 'keys', input: '\t\t', key: {} });
    expect(text(tabBar(alerts.ui, { services: 10, flows: 20, alerts: 2 }, '', 80, []))).toMatch(/\[Alerts 2\] +Coverage +newest first$/);
    const coverage = reduce(alerts, { type: 'keys', input: '\t', key: {} });
    expect(text(tabBar(coverage.ui, { services: 10, flows: 20, alerts: 2, coverage: 9 }, '', 80, []))).toMatch(/\[Coverage 9\] +busiest first$/);
    const drilled = text(tabBar(filtered.ui, { services: 10, flows: null, alerts: null }, '', 80, ['database shards']));
    expect(drilled).toContain('› database shards');
  });
});

describe('detail pages', () => {
  it('a service shows its rule as `rules explain` does: cite, exposure, purpose, protocols, tls', () => {
    const row = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER).groups.flatMap((g) => g.rows).find((r) => r.key === 'redis-enterprise.shards')!;
    const lines = serviceDetailLines(info, 'redis-enterprise.shards', row, { width: 120, height: 40, unit: 'bits' }).map(text);
    expect(lines[0]).toMatch(/^redis-enterprise › database shards {2}\(redis-enterprise\.shards\)/);
    expect(lines.join('\n')).toMatch(/purpose +Database shards traffic/);
    expect(lines.join('\n')).toMatch(/exposure +documented: internal/);
    expect(lines.join('\n')).toMatch(/protocols +resp · tls optional/);
    expect(lines.join('\n')).toMatch(/source +003_ee983c6a73cb0d56\.txt: \| TCP \| 20000-29999 \| Internal \| Database shards traffic \|/);
    expect(lines.join('\n')).toMatch(/checks +verified \d+ · mismatch 2 · encrypted 0 · port-only 0 · exposure violations 0/);
  });

  it('a flow shows every evidence field; a vanished flow says so', () => {
    const flows = buildFlows(info, frame, DEFAULT_SORT, EMPTY_FILTER);
    const web = flows.live.find((f) => f.serviceKey === 'redis-enterprise.web-ui')!;
    const lines = flowDetailLines(web, web.id, { width: 100, height: 30, unit: 'bits' }).map(text).join('\n');
    expect(lines).toMatch(/sni +cluster\.example\.com/);
    expect(lines).toMatch(/alpn +h2/);
    expect(text(flowDetailLines(null, 77, { width: 100, height: 30, unit: 'bits' })[0]!)).toMatch(/^flow 77: no longer listed/);
    expect(flowItem(web.raw, NaN).ageSec).toBeNaN();
  });
});
