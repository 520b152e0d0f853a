/**
 * Whole screens at fixed terminal sizes (snapshots at 80x24 and 160x48), frame height limits at
 * every size, resize, and each component rendered from plain props.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { AlertsView } from '../../src/ui/components/AlertsView.js';
import { FilterBar } from '../../src/ui/components/FilterBar.js';
import { FlowsView } from '../../src/ui/components/FlowsView.js';
import { Footer } from '../../src/ui/components/Footer.js';
import { Header } from '../../src/ui/components/Header.js';
import { HelpOverlay } from '../../src/ui/components/HelpOverlay.js';
import { ServiceDetail } from '../../src/ui/components/ServiceDetail.js';
import { ServicesView } from '../../src/ui/components/ServicesView.js';
import { buildAlerts } from '../../src/ui/view-model/alerts.js';
import { EMPTY_FILTER } from '../../src/ui/view-model/filter.js';
import { buildFlows } from '../../src/ui/view-model/flows.js';
import { FrameBuilder, type Frame } from '../../src/ui/view-model/frame.js';
import { buildServices } from '../../src/ui/view-model/services.js';
import { DEFAULT_SORT } from '../../src/ui/view-model/sort.js';
import { initialUi, reduce, type AppState } from '../../src/ui/view-model/state.js';
import type { SessionUpdate } from '../../src/export/consumer.js';
import { fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';
import { renderSized } from '../helpers/render.js';

function frameAt(step: number, o: Parameters<typeof fixtureUpdate>[1] = {}): Frame {
  const b = new FrameBuilder();
  let u: SessionUpdate = fixtureUpdate(0, o);
  for (let i = 0; i <= step; i++) {
    u = fixtureUpdate(i, o);
    b.ingest(u);
  }
  return b.build(u);
}

const info = fixtureInfo();
const frame = frameAt(80);

afterEach(() => cleanup());

async function screenAt(columns: number, rows: number, f: Frame | null = frame) {
  const r = renderSized(<App info={info} frame={f} status="running" />, columns, rows);
  await vi.waitFor(() => expect(r.lastFrame()).toContain('portsniff'));
  return r;
}

describe('whole screen', () => {
  it('80x24 (snapshot)', async () => {
    const r = await screenAt(80, 24);
    const lines = r.lastFrame().split('\n');
    expect(lines.length).toBe(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(r.lastFrame()).toMatchSnapshot();
    r.unmount();
  });

  it('160x48 uses the room: verdict columns, a wider sparkline, all groups (snapshot)', async () => {
    const r = await screenAt(160, 48);
    const f = r.lastFrame();
    expect(f).toMatch(/VERIFIED MISMATCH ENCRYPT PORTONLY EXPOSURE! LAST 60S/);
    expect(f).toContain('candidates: edgecomet.redis | gloo-mesh-enterprise.redis');
    expect(f.split('\n').length).toBe(47);
    expect(f).toMatchSnapshot();
    r.unmount();
  });

  it('never draws more than rows - 1 lines, nor wider than the terminal, at any size', async () => {
    for (const [c, h] of [
      [80, 24],
      [40, 10],
      [39, 30],
      [120, 9],
      [200, 60],
      [20, 5],
      [10, 2],
      [1, 1],
    ] as const) {
      const r = renderSized(<App info={info} frame={frame} status="running" />, c, h);
      await new Promise((res) => setTimeout(res, 30));
      const lines = r.lastFrame() === '' ? [] : r.lastFrame().split('\n');
      expect(lines.length, `${c}x${h}`).toBeLessThanOrEqual(h - 1);
      for (const l of lines) expect(l.length, `${c}x${h}: ${l}`).toBeLessThanOrEqual(c);
      if (c < 40 && h > 2) expect(r.lastFrame()).toContain('too small');
      r.unmount();
    }
  });

  it('follows the terminal size on resize', async () => {
    const r = await screenAt(80, 24);
    expect(r.lastFrame()).not.toContain('VERIFIED');
    r.resize(160, 40);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('VERIFIED'));
    expect(r.lastFrame().split('\n').length).toBe(39);
    r.resize(50, 12);
    await vi.waitFor(() => expect(r.lastFrame().split('\n').length).toBe(11));
    r.unmount();
  });

  it('a stdin that cannot go raw (not a TTY): no input hook, no "Raw mode is not supported" error', async () => {
    const r = renderSized(<App info={info} frame={frame} status="running" />, 80, 24, { stdinIsTTY: false });
    await vi.waitFor(() => expect(r.lastFrame()).toContain('database endpoints'));
    r.stdin.write('?');
    await new Promise((res) => setTimeout(res, 50));
    expect(r.lastFrame()).not.toContain('portsniff dashboard: keys');
    r.unmount();
  });

  it('before the first update: the header and an empty table, no crash', async () => {
    const r = await screenAt(80, 24, null);
    expect(r.lastFrame()).toContain('no traffic yet');
    r.unmount();
  });

  it('odd data does not throw: empty services, no detail, no rules, huge numbers, long names', async () => {
    const u = fixtureUpdate(3, { detail: false });
    u.snapshot.services = [
      { ...u.snapshot.services[0]!, key: 'x'.repeat(500), component: '\x1b[2J'.repeat(30), bytes: { toServer: 1e300, toClient: Infinity }, flows: NaN },
    ];
    u.snapshot.totals.packets = Number.MAX_SAFE_INTEGER;
    const b = new FrameBuilder();
    b.ingest(u);
    const r = renderSized(<App info={{ ...info, rules: [], name: '日本'.repeat(100) }} frame={b.build(u)} status="running" />, 80, 24);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('portsniff'));
    expect(r.lastFrame()).not.toContain('\x1b[2J');
    r.stdin.write('\r');
    r.stdin.write('\t');
    r.stdin.write('\t');
    await new Promise((res) => setTimeout(res, 30));
    expect(r.lastFrame()).toContain('[Alerts]');
    r.unmount();
  });
});

describe('components from plain props', () => {
  const services = buildServices(info, frame, DEFAULT_SORT, EMPTY_FILTER);
  const flows = buildFlows(info, frame, DEFAULT_SORT, EMPTY_FILTER);
  const alerts = buildAlerts(info, frame, EMPTY_FILTER);
  const ui = initialUi({ columns: 100, rows: 30 });

  it('Header', () => {
    const { lastFrame } = render(<Header info={info} frame={frame} status="running" paused={true} unit="bits" width={100} />);
    expect(lastFrame()).toMatch(/^portsniff replay demo\.pcap · 10x +PAUSED/);
    expect(lastFrame()!.split('\n')).toHaveLength(4);
  });

  it('ServicesView marks the selected row and the sort column', () => {
    const { lastFrame } = render(<ServicesView model={services} width={100} height={20} sort={{ key: 'rate', reverse: true }} unit="bytes" selected="zeebe.gateway-grpc" />);
    expect(lastFrame()).toContain('RATE▲');
    expect(lastFrame()).toMatch(/^> gateway +26500/m);
    expect(lastFrame()).toMatch(/[kM]B\/s/);
  });

  it('FlowsView and AlertsView', () => {
    const f = render(<FlowsView model={flows} width={100} height={12} sort={DEFAULT_SORT} unit="bits" selected={null} />);
    expect(f.lastFrame()).toContain('CLIENT → SERVER');
    expect(f.lastFrame()!.split('\n').length).toBeLessThanOrEqual(12);
    const a = render(<AlertsView model={alerts} width={100} height={6} selected={alerts.order[1]!} />);
    expect(a.lastFrame()).toMatch(/^> MISMATCH/m);
    const empty = render(<AlertsView model={buildAlerts(info, frameAt(0), EMPTY_FILTER)} width={100} height={6} selected={null} />);
    expect(empty.lastFrame()).toContain('no alerts: no payload mismatch and no exposure violation so far');
  });

  it('ServiceDetail for an ambiguous service shows candidates and the resolution', () => {
    const row = services.groups.flatMap((g) => g.rows).find((r) => r.kind === 'ambiguous')!;
    const own = buildFlows(info, frame, DEFAULT_SORT, EMPTY_FILTER, { serviceKey: row.key });
    const { lastFrame } = render(<ServiceDetail info={info} serviceKey={row.key} row={row} flows={own} width={100} height={20} sort={DEFAULT_SORT} unit="bits" selected={null} />);
    expect(lastFrame()).toContain('ambiguous tcp/6379: 2 rules tie');
    expect(lastFrame()).toMatch(/candidate +edgecomet\.redis · Redis · resp/);
    expect(lastFrame()).toMatch(/resolve +same protocols \(resp\): --products edgecomet or gloo-mesh-enterprise/);
    expect(lastFrame()).toContain('10.5.0.9:6379');
  });

  it('Footer, FilterBar, HelpOverlay', () => {
    expect(render(<Footer ui={ui} status="finished" width={100} shown={null} />).lastFrame()).toContain('replay finished: q to quit');
    const typing: AppState = reduce({ ui, info, frame, status: 'running' }, { type: 'keys', input: '/sni:', key: {} });
    expect(render(<FilterBar ui={typing.ui} width={100} shown={null} />).lastFrame()).toContain("✗ 'sni:' needs a value");
    expect(render(<Footer ui={typing.ui} status="running" width={100} shown={null} />).lastFrame()).toContain('/ sni:█');
    const help = render(<HelpOverlay width={80} height={22} />).lastFrame()!;
    expect(help.split('\n').length).toBeLessThanOrEqual(22);
    expect(help).toContain('checks: ✓ verified  ✗ mismatch  e encrypted  ~ port-only  ! exposure violation');
  });
});
