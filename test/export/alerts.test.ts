/**
 * The alerts consumer driven with the fleet capture (fixtures/gen/fleet.ts): which flows raise
 * which kind, de-duplication per (kind, service, client) with counts and first/last times, repeat
 * lines at most once per interval, the final lines, determinism, and the bound on keys.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AlertsConsumer, type AlertLine } from '../../src/export/alerts.js';
import { drive, sessionData, type SessionData } from './session-data.js';

const FLEET = fileURLToPath(new URL('../../fixtures/captures/fleet.pcap', import.meta.url));

let data: SessionData;
beforeAll(async () => {
  data = await sessionData(FLEET, { monitoringHosts: '10.90.0.0/24', updateEvery: 50 });
});

async function alertLines(d: SessionData, opts: ConstructorParameters<typeof AlertsConsumer>[0] = {}): Promise<{ lines: AlertLine[]; consumer: AlertsConsumer; raw: string[] }> {
  const raw: string[] = [];
  const consumer = new AlertsConsumer({ write: (l) => raw.push(l), ...opts });
  await drive(consumer, d);
  return { lines: raw.map((l) => JSON.parse(l) as AlertLine), consumer, raw };
}

/** The latest line of each key. */
function latest(lines: AlertLine[]): Map<string, AlertLine> {
  const m = new Map<string, AlertLine>();
  for (const l of lines) m.set(`${l.kind}|${l.service}|${l.client}|${l.protocol ?? ''}|${l.protocol ? l.server.port : ''}`, l);
  return m;
}

describe('alerts over the fleet capture', () => {
  it('raises each kind for the flows that deserve it, one key per (kind, service, client)', async () => {
    const { lines, consumer } = await alertLines(data);
    const state = [...latest(lines).values()];
    const summary = (kind: string) => state.filter((l) => l.kind === kind).map((l) => `${l.service} ${l.client} x${l.count}`).sort();
    expect(summary('exposure-violation')).toEqual([
      'edgecomet.edge-gateway-metrics 10.77.0.5 x1',
      'redis-enterprise.shards 203.0.113.7 x1',
    ]);
    expect(summary('mismatch')).toEqual(['ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis 10.20.5.21 x3']);
    expect(summary('undocumented-port')).toEqual(['unknown 10.20.5.21 x11', 'unknown 10.20.5.22 x11', 'unknown 10.40.1.21 x1']);
    const xds = state.find((l) => l.kind === 'undocumented-port' && l.client === '10.40.1.21')!;
    expect(xds.protocol).toBe('grpc:envoy-xds');
    expect(xds.documentedBy).toEqual(['gloo-mesh.gloo-xds', 'kgateway.gloo-xds', 'kgateway.mtls-gloo-xds-localhost']);
    expect(xds.detail).toBe('grpc:envoy-xds on tcp/9000, a port no rule documents; grpc:envoy-xds is documented for gloo-mesh.gloo-xds, kgateway.gloo-xds, kgateway.mtls-gloo-xds-localhost');
    const resp = state.find((l) => l.kind === 'undocumented-port' && l.client === '10.20.5.21')!;
    expect(resp).toMatchObject({ protocol: 'resp', server: { ip: '10.60.0.7', port: 7000 }, transport: 'tcp' });
    expect(resp.first < resp.last).toBe(true);
    expect(resp.flowIds.length).toBe(5);
    const mismatch = state.find((l) => l.kind === 'mismatch')!;
    expect(mismatch.detail).toBe('http1 on tcp/6379, documented as resp');
    const shard = state.find((l) => l.client === '203.0.113.7')!;
    expect(shard.detail).toBe('public client on a port documented as internal');
    // Flow counts agree with the summary.
    const services = data.end.summary.services;
    expect(consumer.flowsByKind['exposure-violation']).toBe(services.reduce((n, s) => n + s.exposure.violation, 0));
    expect(consumer.flowsByKind.mismatch).toBe(services.reduce((n, s) => n + s.verdicts.mismatch, 0));
    expect(consumer.raised(['mismatch'])).toBe(true);
  });

  it('a key writes a line when new, then at most once per interval of capture time, and its final count at the end', async () => {
    const { lines } = await alertLines(data, { repeatSec: 60 });
    const respA = lines.filter((l) => l.kind === 'undocumented-port' && l.client === '10.20.5.21');
    // Eleven flows 20 s apart: a line when new, repeats once the capture clock moved 60 s, the rest
    // at the end.
    const counts = respA.map((l) => l.count);
    expect(counts).toEqual([1, 4, 8, 11]);
    expect(respA.map((l) => l.new)).toEqual([true, false, false, false]);
    // A key whose every flow is already in a line gets no extra line at the end.
    const once = lines.filter((l) => l.client === '203.0.113.7');
    expect(once).toHaveLength(1);
    const noRepeat = await alertLines(data, { repeatSec: 1e9 });
    expect(noRepeat.lines.filter((l) => l.kind === 'undocumented-port' && l.client === '10.20.5.21').map((l) => l.count)).toEqual([1, 11]);
  });

  it('replays write the same lines whatever the update timing (capture time, not wall time)', async () => {
    const other = await sessionData(FLEET, { monitoringHosts: '10.90.0.0/24', updateEvery: 7 });
    const a = await alertLines(data, { now: () => 0 });
    let t = 0;
    const b = await alertLines(other, { now: () => (t += 10_000) });
    expect(b.raw).toEqual(a.raw);
  });

  it('live sessions also write due repeats at updates (wall clock)', async () => {
    const live = await sessionData(FLEET, { monitoringHosts: '10.90.0.0/24', updateEvery: 20, kind: 'live', live: { captured: 0, droppedByKernel: 0, droppedByInterface: 0, engineDrops: 0 } });
    let t = 0;
    const { lines } = await alertLines(live, { repeatSec: 1, now: () => (t += 400) });
    // With a 1 s interval and 0.4 s per clock reading, repeats come from updates as well as flows.
    const respA = lines.filter((l) => l.kind === 'undocumented-port' && l.client === '10.20.5.21');
    expect(respA.length).toBeGreaterThan(5);
    expect(respA.at(-1)!.count).toBe(11);
  });

  it('holds at most maxKeys keys: the least recently raised is written and forgotten', async () => {
    const { lines, consumer } = await alertLines(data, { maxKeys: 2, repeatSec: 1e9 });
    expect(consumer.forgotten).toBeGreaterThan(0);
    // Nothing is lost: a forgotten key's last line has its count; when it comes back it starts
    // again (`new`), so the counts of its generations add up to the full count.
    const full = latest((await alertLines(data, { repeatSec: 1e9 })).lines);
    const generations = new Map<string, number[]>();
    for (const l of lines) {
      const k = [...latest([l]).keys()][0]!;
      const g = generations.get(k) ?? [];
      if (l.new) g.push(l.count);
      else g[g.length - 1] = l.count;
      generations.set(k, g);
    }
    expect([...generations.values()].some((g) => g.length > 1)).toBe(true);
    for (const [k, l] of full) expect(generations.get(k)!.reduce((a, b) => a + b, 0), k).toBe(l.count);
  });

  it('without --monitoring-hosts the stray scrape is unchecked, not an alert; --no-rules raises nothing', async () => {
    const plain = await sessionData(FLEET, { updateEvery: 500 });
    const { lines } = await alertLines(plain);
    expect(lines.some((l) => l.service === 'edgecomet.edge-gateway-metrics')).toBe(false);
    const none = await sessionData(FLEET, { classification: null, updateEvery: 500 });
    expect((await alertLines(none)).lines).toEqual([]);
  });

  it('--products narrows what counts as documented for undocumented-port', async () => {
    const zeebeOnly = await sessionData(FLEET, { products: ['zeebe'], updateEvery: 500 });
    const { lines } = await alertLines({ ...zeebeOnly, info: { ...zeebeOnly.info, products: ['zeebe'] } });
    expect(lines.filter((l) => l.kind === 'undocumented-port')).toEqual([]);
  });

  it('rows() lists the current alerts newest first, as the dashboard shows them', async () => {
    const { consumer } = await alertLines(data);
    const rows = consumer.rows(3);
    expect(rows).toHaveLength(3);
    expect(rows[0]!.lastSec).toBeGreaterThanOrEqual(rows[1]!.lastSec);
  });
});
