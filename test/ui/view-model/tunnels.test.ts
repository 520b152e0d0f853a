/**
 * Tunnels in the dashboard, on what portsniff really produces for the generated demo-tunnels.pcap
 * (the demo products inside flannel-style VXLAN, Geneve and IP-in-IP): the header's tunnels line,
 * the VIA column of services and flows, the drill-downs, and the tunnel: filter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TUNNEL_TYPE_NAMES } from '../../../src/decode/tunnel.js';
import type { SessionUpdate } from '../../../src/export/consumer.js';
import { serviceDetailLines, flowDetailLines } from '../../../src/ui/view-model/detail-lines.js';
import { EMPTY_FILTER, parseFilter, type Filter } from '../../../src/ui/view-model/filter.js';
import { buildFlows, flowItem, captureNow } from '../../../src/ui/view-model/flows.js';
import { formatBytes } from '../../../src/ui/view-model/format.js';
import { flowsScreen } from '../../../src/ui/view-model/flows-lines.js';
import { FrameBuilder, type Frame } from '../../../src/ui/view-model/frame.js';
import { headerHeight, headerLines } from '../../../src/ui/view-model/header-lines.js';
import { text } from '../../../src/ui/view-model/lines.js';
import { buildServices } from '../../../src/ui/view-model/services.js';
import { servicesScreen } from '../../../src/ui/view-model/services-lines.js';
import { DEFAULT_SORT } from '../../../src/ui/view-model/sort.js';
import { encapsulationTotals, stackText, TUNNEL_TYPES, viaText } from '../../../src/ui/view-model/tunnels.js';
import { DEMO_TUNNELS_CAPTURE } from '../../../fixtures/gen/demo-tunnels.js';
import { DEMO_CAPTURE } from '../../../fixtures/gen/demo.js';
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

let session: RecordedSession;
let mid: Frame;
let final: Frame;
beforeAll(async () => {
  session = await recordSession(DEMO_TUNNELS_CAPTURE);
  mid = frameOf(updateAfter(DEMO_TUNNELS_CAPTURE, 0.6));
  final = frameOf(session.updates.at(-1)!);
}, 60_000);

describe('tunnels in the dashboard', () => {
  it('knows every encapsulation type the decoder names', () => {
    expect([...TUNNEL_TYPES].sort()).toEqual(TUNNEL_TYPE_NAMES.filter((n) => n !== 'none').sort());
  });

  it('the header says which encapsulations carried how many flows: the summary\'s figures at the end', () => {
    const byKey = (l: { type: string; id: number | null }[]) => [...l].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : (a.id ?? -1) - (b.id ?? -1)));
    expect(byKey(encapsulationTotals(final.update.snapshot.services))).toEqual(byKey(session.end.summary.totals.encapsulations!));
    const lines = headerLines({ info: session.info, frame: final, status: 'finished', paused: false, unit: 'bits', width: 80 }).map(text);
    expect(lines).toHaveLength(5);
    expect(headerHeight(final)).toBe(5);
    expect(lines[4]).toBe('tunnels vxlan:1 75 flows · ip-in-ip 10 · geneve:16 6');
    // While running: the live flows' encapsulations (60% of the records read).
    const running = headerLines({ info: session.info, frame: mid, status: 'running', paused: false, unit: 'bits', width: 80 }).map(text);
    expect(running[4]).toMatch(/^tunnels vxlan:1 \d+ flows · ip-in-ip \d+ · geneve:16 \d+$/);
    expect(mid.update.snapshot.services.some((s) => s.liveFlows > 0 && (s.encapsulations ?? []).length > 0)).toBe(true);
  });

  it('a plain capture keeps the four header lines', async () => {
    const plain = await recordSession(DEMO_CAPTURE);
    const f = frameOf(plain.updates.at(-1)!);
    expect(headerLines({ info: plain.info, frame: f, status: 'finished', paused: false, unit: 'bits', width: 80 })).toHaveLength(4);
    expect(headerHeight(f)).toBe(4);
    expect(buildServices(plain.info, f, DEFAULT_SORT, EMPTY_FILTER).tunnelled).toBe(false);
    expect(text(servicesScreen(buildServices(plain.info, f, DEFAULT_SORT, EMPTY_FILTER), { width: 80, height: 20, sort: DEFAULT_SORT, unit: 'bits', selected: null }).header)).not.toContain('VIA');
  });

  it('service rows name their overlay in a VIA column, at 80 columns too, never hidden behind it', () => {
    for (const f of [mid, final]) {
      const m = buildServices(session.info, f, DEFAULT_SORT, EMPTY_FILTER);
      expect(m.tunnelled).toBe(true);
      const rows = new Map(m.groups.flatMap((g) => g.rows).map((r) => [r.key, r]));
      expect(rows.get('redis-enterprise.database-endpoints')!.via).toBe('vxlan:1');
      expect(rows.get('zeebe.gateway-grpc')!.via).toBe('ip-in-ip');
      expect(rows.get('kgateway.gloo-xds')!.via).toBe('geneve:16');
      for (const width of [80, 120, 160]) {
        const screen = servicesScreen(m, { width, height: 40, sort: DEFAULT_SORT, unit: 'bits', selected: null });
        expect(text(screen.header)).toMatch(/ VIA /);
        const body = screen.body.map(text);
        expect(body.find((l) => l.includes('database endpo'))).toMatch(/ vxlan:1 /);
        expect(body.find((l) => l.includes('gateway ') && l.includes('26500'))).toMatch(/ ip-in-ip /);
        for (const l of [text(screen.header), ...body]) expect(l.length).toBeLessThanOrEqual(width);
      }
    }
    // The outer flows (VXLAN on udp/8472, Geneve on udp/6081) are unknown traffic of their own.
    const unknown = buildServices(session.info, final, DEFAULT_SORT, EMPTY_FILTER).groups.find((g) => g.kind === 'unknown')!.rows[0]!;
    expect(unknown.unknownPorts.map((p) => `${p.transport}/${p.port}`)).toEqual(expect.arrayContaining(['udp/8472', 'udp/6081']));
    expect(viaText([{ type: 'geneve', id: 16, flows: 1, packets: 1, bytes: 1 }, { type: 'vxlan', id: 1, flows: 5, packets: 1, bytes: 1 }])).toBe('vxlan:1,geneve:16');
  });

  it('flows show their stack (VIA) and the flow drill-down each tunnel with its endpoints', () => {
    const m = buildFlows(session.info, mid, DEFAULT_SORT, EMPTY_FILTER);
    expect(m.tunnelled).toBe(true);
    const tunnelled = [...m.live, ...m.ended].filter((x) => x.tunnel !== '');
    expect(tunnelled.length).toBeGreaterThan(0);
    for (const x of tunnelled) expect(x.tunnel).toBe(stackText(x.raw.tunnel));
    const screen = flowsScreen(m, { width: 80, height: 30, sort: DEFAULT_SORT, unit: 'bits', selected: null });
    expect(text(screen.header).trimEnd()).toMatch(/ VIA$/);
    expect(screen.body.map((l) => text(l).trimEnd()).some((l) => / vxlan:1$/.test(l))).toBe(true);
    const flow = tunnelled[0]!;
    const detail = flowDetailLines(flowItem(flow.raw, captureNow(mid)), flow.id, { width: 100, height: 30, unit: 'bits' }).map(text);
    expect(detail.find((l) => l.startsWith('  tunnel '))).toMatch(/^ {2}tunnel {4}(vxlan:1|geneve:16|ip-in-ip) 192\.168\.10\.\d → 192\.168\.10\.\d \(outer to inner\)/);
  });

  it('the service drill-down lists its encapsulations with flows, packets and bytes', () => {
    const row = buildServices(session.info, final, DEFAULT_SORT, EMPTY_FILTER).groups.flatMap((g) => g.rows).find((r) => r.key === 'redis-enterprise.database-endpoints')!;
    const lines = serviceDetailLines(session.info, row.key, row, { width: 100, height: 30, unit: 'bits' }).map(text);
    const s = final.update.snapshot.services.find((x) => x.key === row.key)!;
    expect(lines.find((l) => l.startsWith('  tunnels '))?.trimEnd()).toBe(`  tunnels   vxlan:1: ${s.flows} flows, ${s.packets.toServer + s.packets.toClient} pkts, ${formatBytes(row.bytes).trim()}`);
  });

  it('tunnel: filters services and flows by type or type:id', () => {
    const keys = (t: string) => buildServices(session.info, final, DEFAULT_SORT, filter(t)).groups.flatMap((g) => g.rows).map((r) => r.key);
    expect(keys('tunnel:geneve:16').sort()).toEqual(['ambiguous:gloo-mesh.gloo-xds|kgateway.gloo-xds', 'kgateway.gloo-rest-xds', 'kgateway.gloo-xds']);
    expect(keys('tunnel:ip-in-ip').every((k) => k.startsWith('zeebe.'))).toBe(true);
    expect(keys('tunnel:ip-in-ip')).toHaveLength(4);
    expect(keys('tunnel:vxlan:2')).toEqual([]);
    // Every service of this capture came through a tunnel; no service is left outside one.
    expect(keys('!tunnel:any')).toEqual([]);
    const flows = buildFlows(session.info, mid, DEFAULT_SORT, filter('tunnel:geneve'));
    expect(flows.shown).toBeGreaterThan(0);
    for (const x of [...flows.live, ...flows.ended]) expect(x.tunnel).toBe('geneve:16');
    const outer = buildFlows(session.info, mid, DEFAULT_SORT, filter('!tunnel:any'));
    for (const x of [...outer.live, ...outer.ended]) expect([x.tunnel, x.service]).toEqual(['', 'unknown']);
  });
});
