/**
 * Snapshots with live flows (live-view.ts): the per-service totals of a snapshot taken before the
 * end of input equal the totals after every flow ended (finishing only ends flows, it changes no
 * counter), whether or not earlier snapshots cached the flows' classifications; the detail lists
 * are bounded and show what the demo capture is built to contain.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CaptureParser } from '../../src/capture/parser.js';
import { Engine, DEFAULT_ENGINE_OPTIONS } from '../../src/pipeline/engine.js';
import { buildClassification } from '../../src/pipeline/classification.js';
import { DETAIL_LIMITS, AlertBook } from '../../src/pipeline/live-view.js';
import { mergeDetail } from '../../src/pipeline/snapshot.js';
import { loadRuleDirs, defaultRulesDir } from '../../src/rules/load.js';
import { DEMO_CAPTURE } from '../../fixtures/gen/demo.js';
import { DEMO_TUNNELS_CAPTURE } from '../../fixtures/gen/demo-tunnels.js';
import type { ClassifiedFlow, SnapshotService } from '../../src/pipeline/results.js';
import { tunnelledCapture } from './tunnel-capture.js';
import { TUNNEL_CORPUS_DIR, tunnelCorpusFiles, tunnelCorpusPresent } from '../helpers/corpus.js';
import { join } from 'node:path';

const ruleSet = loadRuleDirs([defaultRulesDir()]);

function engineFor(opts: { monitoringHosts?: string } = {}, idleTimeout: number = DEFAULT_ENGINE_OPTIONS.idleTimeout, onFlow?: (f: ClassifiedFlow) => void): Engine {
  const c = buildClassification({ ruleSet, ...opts, evidenceDetail: onFlow !== undefined });
  return new Engine({
    ...DEFAULT_ENGINE_OPTIONS,
    idleTimeout,
    classifier: c.makeClassifier(DEFAULT_ENGINE_OPTIONS.maxFlows),
    documentedPorts: c.documentedPorts,
    ...(onFlow !== undefined ? { onFlow } : {}),
  });
}

/** Feeds the demo capture (or `file`, or its bytes) record by record, calling `at(i)` before record i for the chosen i. */
function feed(engine: Engine, stops: ReadonlySet<number>, at: (i: number) => void, file: string | Uint8Array = DEMO_CAPTURE): number {
  const bytes = typeof file === 'string' ? new Uint8Array(readFileSync(file)) : file;
  let i = 0;
  const sink = {
    frame: (buf: Uint8Array, off: number, cap: number, orig: number, sec: number, nsec: number, lt: number) => {
      if (stops.has(i)) at(i);
      i++;
      engine.frame(buf, off, cap, orig, sec, nsec, lt);
    },
  };
  new CaptureParser(sink as never, 'demo').feed(bytes, 0, bytes.length);
  return i;
}

let k = 0;

function withoutLive(list: SnapshotService[]): unknown[] {
  return list.map(({ liveFlows: _live, ...rest }) => rest);
}

describe('live view', () => {
  it('a snapshot before the end equals the final per-service totals, with earlier snapshots cached or not', () => {
    const plain = engineFor();
    const n = feed(plain, new Set(), () => {});
    const before = plain.snapshot(true, true);
    plain.finish();
    const final = plain.services.list();
    expect(n).toBeGreaterThan(1000);
    expect(before.services.some((s) => s.liveFlows > 0)).toBe(true);
    expect(before.services.reduce((a, s) => a + s.liveFlows, 0)).toBe(before.totals.liveFlows);
    expect(withoutLive(before.services)).toEqual(final);

    // The same with snapshots all along: cached classifications must follow payload evidence.
    const watched = engineFor();
    const stops = new Set(Array.from({ length: 40 }, (_, k) => Math.floor((k * n) / 40)));
    feed(watched, stops, () => watched.snapshot(true, true));
    const end = watched.snapshot(true, true);
    expect(withoutLive(end.services)).toEqual(final);
  });

  it('lists top live flows by rate, recently ended flows, alerts and unknown ports, bounded', () => {
    const engine = engineFor({ monitoringHosts: '10.90.0.9' }, 5);
    let mid = engine.snapshot(true, true);
    const n = feed(engine, new Set([700, 1400]), () => {
      mid = engine.snapshot(true, true);
    });
    expect(n).toBeGreaterThan(2000);
    const d = engine.snapshot(true, true).detail!;
    const live = d.flows.filter((f) => f.live);
    const ended = d.flows.filter((f) => !f.live);
    expect(live.length).toBeGreaterThan(0);
    expect(live.length).toBeLessThanOrEqual(DETAIL_LIMITS.liveFlows);
    expect(ended.length).toBeLessThanOrEqual(DETAIL_LIMITS.endedFlows);
    for (let i = 1; i < live.length; i++) expect(live[i - 1]!.rateBytesPerSec).toBeGreaterThanOrEqual(live[i]!.rateBytesPerSec);
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((f) => f.end !== null)).toBe(true);
    expect(live.every((f) => f.end === null && f.state !== null && f.state.length > 0)).toBe(true);
    // The demo has HTTP on the RESP port 6379 and clients the documents do not expect.
    expect(d.alerts.some((a) => a.kind === 'mismatch' && /http/.test(a.detail))).toBe(true);
    expect(d.alerts.some((a) => a.kind === 'exposure-violation')).toBe(true);
    for (const a of d.alerts) {
      expect(a.count).toBeGreaterThan(0);
      expect(a.flowIds.length).toBeGreaterThan(0);
      expect(a.lastSec).toBeGreaterThanOrEqual(a.firstSec);
    }
    // Unknown traffic (SSH, PostgreSQL, NTP, tcp/3342) is listed by port with what it looked like.
    const ports = d.unknownPorts.map((u) => `${u.transport}/${u.port}`);
    expect(ports).toEqual(expect.arrayContaining(['tcp/22', 'tcp/5432', 'udp/123', 'tcp/3342']));
    expect(d.unknownPorts.length).toBeLessThanOrEqual(DETAIL_LIMITS.unknownPorts);
    expect(mid.detail).toBeDefined();
  });

  it('tunnelled live flows: services count their encapsulations like ended ones, and flow rows carry the stack', () => {
    // A long idle timeout: every flow is still live when the last record has been fed.
    const records = new Map<number, ClassifiedFlow>();
    const engine = engineFor({}, 1e6, (f) => records.set(f.id, f));
    const n = feed(engine, new Set(), () => {}, DEMO_TUNNELS_CAPTURE);
    const before = engine.snapshot(true, true);
    expect(engine.table.live).toBeGreaterThan(200);
    expect(before.services.reduce((a, s) => a + s.liveFlows, 0)).toBe(before.totals.flows);
    engine.finish();
    const final = engine.services.list();
    // The summary's encapsulation counts (ended flows) are what the snapshot said while all were live.
    expect(final.filter((s) => s.encapsulations !== undefined).length).toBeGreaterThan(10);
    expect(withoutLive(before.services)).toEqual(final);
    const db = before.services.find((s) => s.key === 'redis-enterprise.database-endpoints')!;
    expect(db.liveFlows).toBe(db.flows);
    expect(db.encapsulations).toEqual([{ type: 'vxlan', id: 1, flows: db.flows, packets: db.packets.toServer + db.packets.toClient, bytes: db.bytes.toServer + db.bytes.toClient }]);
    expect(before.services.find((s) => s.key === 'zeebe.gateway-grpc')!.encapsulations).toMatchObject([{ type: 'ip-in-ip', id: null }]);
    // Live rows carry the flow record's tunnel list; plain (outer) flows carry none.
    const live = before.detail!.flows.filter((f) => f.live);
    expect(live.length).toBe(DETAIL_LIMITS.liveFlows);
    expect(live.some((f) => f.tunnel !== undefined) && live.some((f) => f.tunnel === undefined)).toBe(true);
    for (const f of live) expect([f.id, f.tunnel]).toEqual([f.id, records.get(f.id)!.tunnel]);
    expect(live.find((f) => f.tunnel?.[0]?.type === 'geneve')?.tunnel).toEqual([{ type: 'geneve', id: 16, outer: { src: expect.stringMatching(/^192\.168\.10\./), dst: expect.stringMatching(/^192\.168\.10\./) } }]);
    expect(n).toBe(2305);

    // Snapshots all along (classifications and encapsulation entries cached between them) give the same.
    const watched = engineFor({}, 1e6);
    const stops = new Set(Array.from({ length: 30 }, (_, k) => Math.floor((k * n) / 30)));
    feed(watched, stops, () => watched.snapshot(true, k++ % 2 === 0), DEMO_TUNNELS_CAPTURE);
    expect(withoutLive(watched.snapshot(true, true).services)).toEqual(final);
  });

  it('every tunnel type of the generated capture and the tunnel corpus, nested stacks too: live counts equal the counts of the ended flows', () => {
    if (!tunnelCorpusPresent) console.warn(`SKIPPED the tunnel corpus part: ${TUNNEL_CORPUS_DIR} is absent`);
    const captures: Array<[string, Uint8Array]> = [
      ['generated tunnelled capture', tunnelledCapture(7, 300).pcap],
      ...tunnelCorpusFiles().map((f): [string, Uint8Array] => [f, new Uint8Array(readFileSync(join(TUNNEL_CORPUS_DIR, f)))]),
    ];
    const live = new Map<string, SnapshotService[]>();
    for (const [name, bytes] of captures) {
      const engine = engineFor({}, 1e6);
      // Snapshots along the way: flows end (FIN, RST) between them and their slots are reused.
      let n = 0;
      feed(engine, new Set([0, 5, 50, 500]), () => engine.snapshot(true, n++ % 2 === 0), bytes);
      const before = engine.snapshot(true, false);
      live.set(name, before.services);
      engine.finish();
      expect([name, withoutLive(before.services)]).toEqual([name, engine.services.list()]);
    }
    expect(live.get('generated tunnelled capture')!.flatMap((s) => (s.encapsulations ?? []).map((e) => e.type))).toEqual(
      expect.arrayContaining(['vxlan', 'geneve', 'ip-in-ip', 'gre', 'gtp-u', 'pppoe', 'mpls']),
    );
    if (tunnelCorpusPresent) {
      // DNS inside VXLAN inside VXLAN inside VXLAN: one flow in each of the three.
      const dns = live.get('zeek__vxlan-triple-v2.pcap')!.find((s) => s.key === 'redis-enterprise.dns')!;
      expect(dns.liveFlows).toBe(1);
      expect(dns.encapsulations!.map((e) => `${e.type}:${e.id}:${e.flows}`)).toEqual(['vxlan:1:1', 'vxlan:2:1', 'vxlan:3:1']);
    }
  });

  it('an ended tunnelled flow keeps its stack in the recently ended list', () => {
    const engine = engineFor({}, 5);
    // The view (and its list of ended flows) exists from the first snapshot on.
    engine.snapshot(true, true);
    feed(engine, new Set(), () => {}, DEMO_TUNNELS_CAPTURE);
    engine.finish();
    const ended = engine.snapshot(true, true).detail!.flows.filter((f) => !f.live);
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.some((f) => f.tunnel !== undefined && f.tunnel.length > 0)).toBe(true);
  });

  it('without detail a snapshot carries no lists', () => {
    const engine = engineFor();
    feed(engine, new Set(), () => {});
    expect(engine.snapshot(true, false).detail).toBeUndefined();
  });
});

describe('alert book', () => {
  it('de-duplicates per kind, service and client, newest first, and forgets the oldest when full', () => {
    const book = new AlertBook();
    const server = { ip: '10.0.0.1', port: 6379 };
    book.raise('mismatch', 'svc', '10.0.0.9', server, 1, 100, 'payload is http');
    book.raise('mismatch', 'svc', '10.0.0.9', server, 7, 90, 'payload is http');
    book.raise('exposure-violation', 'svc', '10.0.0.9', server, 8, 120, 'public client');
    const list = book.list();
    expect(list.map((a) => a.kind)).toEqual(['exposure-violation', 'mismatch']);
    expect(list[1]).toMatchObject({ count: 2, firstSec: 90, lastSec: 100, flowIds: [7, 1] });
    for (let i = 0; i < DETAIL_LIMITS.alertKeys; i++) book.raise('mismatch', 'svc', `c${i}`, server, i, 200 + i, 'x');
    expect(book.forgotten).toBe(2);
    expect(book.list(DETAIL_LIMITS.alertKeys).length).toBe(DETAIL_LIMITS.alertKeys);
  });

  it('worker parts merge: counts add up, lists stay bounded and ordered', () => {
    const row = (id: number, live: boolean, rate: number, lastSec: number) => ({
      id, live, transport: 'tcp', client: { ip: '10.0.0.2', port: 40000 + id }, server: { ip: '10.0.0.1', port: 6379 },
      serviceKey: 'x', verdict: null, exposure: null, state: 'S1', packets: { toServer: 1, toClient: 1 },
      bytes: { toServer: 100, toClient: 100 }, rateBytesPerSec: rate, handshakeRttMs: null, firstSec: 1, lastSec, evidence: {}, end: live ? null : 'idle-timeout',
    });
    const alert = { kind: 'mismatch' as const, serviceKey: 'x', client: '10.0.0.2', server: { ip: '10.0.0.1', port: 6379 }, count: 2, firstSec: 5, lastSec: 9, flowIds: [3, 1], detail: 'payload is http' };
    const m = mergeDetail([
      { flows: [row(1, true, 10, 5), row(2, false, 0, 8)], alerts: [alert], unknownPorts: [{ transport: 'tcp', port: 22, flows: 1, liveFlows: 1, packets: 5, bytes: 50, protocols: ['ssh'] }] },
      { flows: [row(3, true, 30, 5), row(4, false, 0, 9)], alerts: [{ ...alert, count: 1, firstSec: 2, lastSec: 4, flowIds: [4] }], unknownPorts: [{ transport: 'tcp', port: 22, flows: 2, liveFlows: 0, packets: 5, bytes: 70, protocols: ['tls'] }] },
    ]);
    expect(m.flows.map((f) => f.id)).toEqual([3, 1, 4, 2]);
    expect(m.alerts).toEqual([{ ...alert, count: 3, firstSec: 2, lastSec: 9, flowIds: [4, 3, 1] }]);
    expect(m.unknownPorts).toEqual([{ transport: 'tcp', port: 22, flows: 3, liveFlows: 1, packets: 10, bytes: 120, protocols: ['ssh', 'tls'] }]);
  });
});

describe('snapshot pacing', () => {
  it('keeps the configured interval for cheap snapshots and stretches it so snapshots take at most 10% of the engine thread', async () => {
    const { nextSnapshotDelay, SNAPSHOT_SHARE } = await import('../../src/pipeline/snapshot-feed.js');
    expect(SNAPSHOT_SHARE).toBe(0.1);
    expect(nextSnapshotDelay(250, 5)).toBe(250);
    expect(nextSnapshotDelay(250, 25)).toBe(250);
    expect(nextSnapshotDelay(250, 100)).toBe(1000);
    expect(nextSnapshotDelay(100, 33.3)).toBe(333);
  });
});
