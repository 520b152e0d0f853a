/**
 * The Prometheus consumer driven through the consumer interface with a real session (the demo
 * capture through the engine): per-service counters equal the --json summary's services, health
 * counters equal its totals, every counter only grows from scrape to scrape, labels stay bounded,
 * unknown drop counts have no series; and the HTTP server as a scraper sees it.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsConsumer, productOf, serviceLabels } from '../../src/export/metrics.js';
import { MetricsServer, parseMetricsAddress } from '../../src/export/metrics-server.js';
import { CORPUS_DIR, corpusPresent } from '../helpers/corpus.js';
import { drive, sessionData, type SessionData } from './session-data.js';

const DEMO = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (enough for prom-client's output). */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`bad exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

const sum = (samples: Sample[], name: string, where: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

let data: SessionData;
beforeAll(async () => {
  data = await sessionData(DEMO, { updateEvery: 150 });
});

async function scrapeAfterEach(consumer: MetricsConsumer, d: SessionData): Promise<Sample[][]> {
  const scrapes: Sample[][] = [];
  consumer.start(d.info);
  for (const e of d.events) {
    if ('flow' in e) consumer.tally(e.flow);
    else {
      consumer.update(e.update);
      scrapes.push(parseExposition(await consumer.metrics()).samples);
    }
  }
  consumer.finish(d.end);
  scrapes.push(parseExposition(await consumer.metrics()).samples);
  return scrapes;
}

describe('MetricsConsumer over the demo capture', () => {
  it('per-service counters equal the summary services, health counters its totals', async () => {
    const m = new MetricsConsumer({ processMetrics: false });
    await drive(m, data);
    const { samples } = parseExposition(await m.metrics());
    const services = data.end.summary.services;
    expect(services.length).toBeGreaterThan(10);
    for (const s of services) {
      const where = { service: s.key };
      expect(sum(samples, 'portsniff_flow_records_total', where), s.key).toBe(s.flows);
      expect(sum(samples, 'portsniff_flow_packets_total', { ...where, direction: 'to_server' }), s.key).toBe(s.packets.toServer);
      expect(sum(samples, 'portsniff_flow_packets_total', { ...where, direction: 'to_client' }), s.key).toBe(s.packets.toClient);
      expect(sum(samples, 'portsniff_flow_bytes_total', { ...where, direction: 'to_server' }), s.key).toBe(s.bytes.toServer);
      expect(sum(samples, 'portsniff_flow_bytes_total', { ...where, direction: 'to_client' }), s.key).toBe(s.bytes.toClient);
      for (const [verdict, n] of Object.entries(s.verdicts)) expect(sum(samples, 'portsniff_flow_records_total', { ...where, verdict })).toBe(n);
      for (const [exposure, n] of Object.entries(s.exposure)) expect(sum(samples, 'portsniff_flow_records_total', { ...where, exposure })).toBe(n);
    }
    // Every record is under exactly one service series.
    expect(sum(samples, 'portsniff_flow_records_total')).toBe(services.reduce((n, s) => n + s.flows, 0));
    const t = data.end.summary.totals;
    expect(sum(samples, 'portsniff_packets_total')).toBe(t.packets);
    expect(sum(samples, 'portsniff_bytes_total')).toBe(t.bytes);
    expect(sum(samples, 'portsniff_flows_created_total')).toBe(t.flows);
    expect(sum(samples, 'portsniff_not_ip_packets_total')).toBe(t.notIp);
    expect(sum(samples, 'portsniff_flows_evicted_total')).toBe(t.evictedFlows);
    for (const [code, n] of Object.entries(t.anomalies)) expect(sum(samples, 'portsniff_anomalies_total', { code })).toBe(n);
    expect(sum(samples, 'portsniff_live_flows')).toBe(0);
    expect(sum(samples, 'portsniff_input_ended')).toBe(1);
    // The demo has a mismatch and an exposure violation: both visible as labels.
    expect(sum(samples, 'portsniff_flow_records_total', { verdict: 'mismatch' })).toBeGreaterThan(0);
    expect(sum(samples, 'portsniff_flow_records_total', { service: 'unknown' })).toBeGreaterThan(0);
  });

  it.skipIf(!corpusPresent)('anomalies by code equal the summary (corpus capture with broken packets)', async () => {
    const d = await sessionData(join(CORPUS_DIR, 'ndpi__ip_fragmented_garbage.pcap'), { updateEvery: 7 });
    const m = new MetricsConsumer({ processMetrics: false });
    await drive(m, d);
    const { samples } = parseExposition(await m.metrics());
    const anomalies = d.end.summary.totals.anomalies;
    expect(Object.keys(anomalies).length).toBeGreaterThan(0);
    for (const [code, n] of Object.entries(anomalies)) expect(sum(samples, 'portsniff_anomalies_total', { code }), code).toBe(n);
    expect(sum(samples, 'portsniff_anomalies_total')).toBe(Object.values(anomalies).reduce((a, b) => a + b, 0));
  });

  it('counters never go down between scrapes; live-flow gauges do', async () => {
    const scrapes = await scrapeAfterEach(new MetricsConsumer({ processMetrics: false }), data);
    expect(scrapes.length).toBeGreaterThan(10);
    const key = (s: Sample): string => `${s.name}${JSON.stringify(s.labels)}`;
    let previous = new Map<string, number>();
    let liveWentDown = false;
    let lastLive = -1;
    for (const samples of scrapes) {
      const now = new Map(samples.filter((s) => s.name.endsWith('_total')).map((s) => [key(s), s.value]));
      for (const [k, v] of previous) {
        expect(now.has(k), `${k} disappeared`).toBe(true);
        expect(now.get(k)!, k).toBeGreaterThanOrEqual(v);
      }
      previous = now;
      const live = sum(samples, 'portsniff_live_flows');
      if (live < lastLive) liveWentDown = true;
      lastLive = live;
    }
    expect(liveWentDown).toBe(true);
  });

  it('labels are bounded: no addresses or ports anywhere', async () => {
    const m = new MetricsConsumer({ processMetrics: false });
    await drive(m, data);
    const { samples } = parseExposition(await m.metrics());
    const allowed = new Set(['service', 'product', 'transport', 'verdict', 'exposure', 'direction', 'code', 'stage', 'version', 'source_kind', 'source', 'backend']);
    for (const s of samples) {
      for (const [k, v] of Object.entries(s.labels)) {
        expect(allowed.has(k), `${s.name} label ${k}`).toBe(true);
        if (k !== 'source') expect(v, `${s.name} ${k}=${v}`).not.toMatch(/\d+\.\d+\.\d+\.\d+|::/);
      }
    }
    const series = new Set(samples.filter((s) => s.name === 'portsniff_flow_records_total').map((s) => s.labels['service']));
    // One series per documented service (or tie) seen, plus `unknown`; never one per port.
    expect(series.size).toBe(data.end.summary.services.length);
  });

  it('drop counters: absent where the backend cannot know, present (even 0) where it can', async () => {
    const capLike = await sessionData(DEMO, { updateEvery: 500, kind: 'live', live: { captured: 10, droppedByKernel: null, droppedByInterface: null, engineDrops: 0 } });
    const m1 = new MetricsConsumer({ processMetrics: false });
    await drive(m1, capLike);
    const s1 = parseExposition(await m1.metrics()).samples.filter((s) => s.name === 'portsniff_dropped_packets_total');
    expect(s1.map((s) => [s.labels['stage'], s.value])).toEqual([['engine', 0]]);

    const tcpdumpLike = await sessionData(DEMO, { updateEvery: 500, kind: 'live', live: { captured: 10, droppedByKernel: 7, droppedByInterface: 0, engineDrops: 2 } });
    const m2 = new MetricsConsumer({ processMetrics: false });
    await drive(m2, tcpdumpLike);
    const s2 = parseExposition(await m2.metrics()).samples.filter((s) => s.name === 'portsniff_dropped_packets_total');
    expect(Object.fromEntries(s2.map((s) => [s.labels['stage'], s.value]))).toEqual({ kernel: 7, interface: 0, engine: 2 });

    // A file replay has no drop stage at all.
    const m3 = new MetricsConsumer({ processMetrics: false });
    await drive(m3, data);
    expect(parseExposition(await m3.metrics()).samples.some((s) => s.name === 'portsniff_dropped_packets_total')).toBe(false);
  });

  it('snapshot age grows with the wall clock and is 0 once the input ended', async () => {
    let now = 0;
    const m = new MetricsConsumer({ processMetrics: false, now: () => now });
    m.start(data.info);
    const u = data.events.find((e) => 'update' in e)! as { update: Parameters<MetricsConsumer['update']>[0] };
    m.update(u.update);
    now = u.update.snapshot.takenAt + 4_500;
    expect(sum(parseExposition(await m.metrics()).samples, 'portsniff_snapshot_age_seconds')).toBeCloseTo(4.5);
    m.finish(data.end);
    expect(sum(parseExposition(await m.metrics()).samples, 'portsniff_snapshot_age_seconds')).toBe(0);
  });

  it('process metrics come from prom-client; types follow the conventions', async () => {
    const m = new MetricsConsumer();
    await drive(m, data);
    const { samples, types } = parseExposition(await m.metrics());
    expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true);
    for (const [name, type] of types) {
      if (!name.startsWith('portsniff_')) continue;
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
    }
  });
});

describe('per-service counters from sums', () => {
  // prom-client validates and hashes the labels of every increment (~10 µs): once per record, a
  // flow flood took 10x as long with --metrics. Records go into plain sums; the counters get them
  // when a scrape reads them, or at the end.
  const flows = (): Array<Parameters<MetricsConsumer['tally']>[0]> => data.events.flatMap((e) => ('flow' in e ? [e.flow] : []));

  it('no counter increment per record: the sums go in when the counters are read', async () => {
    const consumer = new MetricsConsumer({ processMetrics: false });
    consumer.start(data.info);
    let increments = 0;
    for (const name of ['portsniff_flow_records_total', 'portsniff_flow_packets_total', 'portsniff_flow_bytes_total', 'portsniff_flow_payload_bytes_total']) {
      const counter = consumer.registry.getSingleMetric(name) as unknown as { inc: (...a: unknown[]) => void };
      const inc = counter.inc.bind(counter);
      counter.inc = (...a: unknown[]) => {
        increments++;
        inc(...a);
      };
    }
    const all = flows();
    expect(all.length).toBeGreaterThan(50);
    for (const f of all) consumer.tally(f);
    expect(increments).toBe(0);
    const samples = parseExposition(await consumer.metrics()).samples;
    const series = samples.filter((x) => x.name.startsWith('portsniff_flow_')).length;
    expect(increments).toBe(series);
    expect(sum(samples, 'portsniff_flow_records_total')).toBe(all.length);
    // Read again with no record in between: nothing more to add.
    await consumer.metrics();
    expect(increments).toBe(series);
  });

  it('a scrape between any two records sees every record before it, exactly', async () => {
    const consumer = new MetricsConsumer({ processMetrics: false });
    consumer.start(data.info);
    const all = flows();
    let packets = 0;
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!;
      consumer.tally(f);
      packets += (f.packets?.toServer ?? 0) + (f.packets?.toClient ?? 0);
      if (i % 13 === 0 || i === all.length - 1) {
        const samples = parseExposition(await consumer.metrics()).samples;
        expect(sum(samples, 'portsniff_flow_records_total')).toBe(i + 1);
        expect(sum(samples, 'portsniff_flow_packets_total')).toBe(packets);
      }
    }
  });
});

describe('service labels', () => {
  it('ambiguous flows: the shared product, else "ambiguous"', () => {
    expect(productOf('ambiguous:gloo-mesh.a|gloo-mesh.b', null, ['gloo-mesh.a', 'gloo-mesh.b'])).toBe('gloo-mesh');
    expect(productOf('ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis', null, ['edgecomet.redis', 'gloo-mesh-enterprise.redis'])).toBe('ambiguous');
    expect(productOf('unknown', null, [])).toBe('unknown');
    const f = data.flows.find((x) => x.ambiguous)!;
    expect(serviceLabels(f).service).toBe(`ambiguous:${f.candidates!.map((c) => c.id).join('|')}`);
  });
});

describe('--metrics address and HTTP server', () => {
  it('parses [ADDR:]PORT, loopback by default', () => {
    expect(parseMetricsAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['', 'x', '70000', 'localhost:9464', '::1:9464', '1.2.3:80', '[::1]']) expect(() => parseMetricsAddress(bad), bad).toThrow(/--metrics/);
  });

  let server: MetricsServer | null = null;
  afterAll(async () => server?.close());

  it('serves /metrics, 404 elsewhere, and reports a final scrape after the end', async () => {
    const m = new MetricsConsumer({ processMetrics: false });
    server = await MetricsServer.listen({ host: '127.0.0.1', port: 0 }, m);
    expect(server.port).toBeGreaterThan(0);
    expect(server.describe()).toBe(`portsniff: metrics at http://127.0.0.1:${server.port}/metrics (loopback only)`);
    await drive(m, data);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    expect(sum(parseExposition(text).samples, 'portsniff_packets_total')).toBe(data.end.summary.totals.packets);
    expect((await fetch(server.url.replace('/metrics', '/nope'))).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    expect(await server.waitForFinalScrape(10)).toBe(true);
  });

  it('announces a non-loopback bind and names the address when it cannot listen', async () => {
    const m = new MetricsConsumer({ processMetrics: false });
    const s = await MetricsServer.listen({ host: '0.0.0.0', port: 0 }, m);
    expect(s.describe()).toMatch(/bound to 0\.0\.0\.0 as asked, so other hosts can reach it/);
    await expect(MetricsServer.listen({ host: '0.0.0.0', port: s.port }, m)).rejects.toThrow(`--metrics: cannot listen on 0.0.0.0:${s.port}: the port is in use`);
    await s.close();
    const waiting = await MetricsServer.listen({ host: '127.0.0.1', port: 0 }, new MetricsConsumer({ processMetrics: false }));
    expect(await waiting.waitForFinalScrape(50)).toBe(false);
    await waiting.close();
  });
});
