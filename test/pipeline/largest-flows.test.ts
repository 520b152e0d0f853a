/**
 * Records only for what the text summary lists (largest-flows.ts): the summary's top flows and
 * violations come out the same as from every record, with 0, 1 and 2 workers, while far fewer
 * records are built.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopFlows } from '../../src/export/text.js';
import { LargestFlows } from '../../src/pipeline/largest-flows.js';
import { closeIdleWorkers } from '../../src/pipeline/pipeline.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { options, RULES, runPipeline } from './helpers.js';
import { mixedCapture } from './mixed-capture.js';

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function fakeFlow(id: number, bytes: number): ClassifiedFlow {
  return { id, bytes: { toServer: bytes, toClient: 0 }, payloadBytes: { toServer: 0, toClient: 0 } } as unknown as ClassifiedFlow;
}

/** What the session lists: TopFlows over the records and the first n violations, by id. */
function summaryLists(flows: readonly ClassifiedFlow[], n: number): { top: number[]; violations: number[] } {
  const top = new TopFlows(n);
  const violations: number[] = [];
  for (const f of flows) {
    top.add(f);
    if (f.exposure?.status === 'violation' && violations.length < n) violations.push(f.id);
  }
  return { top: top.list().map((f) => f.id), violations };
}

describe('LargestFlows', () => {
  it('keeps every flow TopFlows would keep, for random sizes with many ties, in one stream or split over shards', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = rng(seed);
      const n = 1 + Math.floor(next() * 8);
      const count = Math.floor(next() * 200);
      const shards = 1 + Math.floor(next() * 3);
      // Few distinct sizes: ties are the hard case.
      const flows = Array.from({ length: count }, (_, i) => fakeFlow(Math.floor(next() * 1000), Math.floor(next() * 12) * 100 + (i % 3 === 0 ? 0 : 1)));
      const filters = Array.from({ length: shards }, () => new LargestFlows(n));
      const kept = flows.filter((f, i) => filters[i % shards]!.wants(f.bytes!.toServer, false));
      expect(summaryLists(kept, n).top, `seed ${seed}`).toEqual(summaryLists(flows, n).top);
      if (count > n * shards * 4) expect(kept.length).toBeLessThan(count);
    }
  });

  it('keeps the first n violations whatever their size, and nothing with n = 0', () => {
    const f = new LargestFlows(2);
    expect([f.wants(10, false), f.wants(20, false), f.wants(1, true), f.wants(1, true), f.wants(1, true), f.wants(5, false)]).toEqual([true, true, true, true, false, false]);
    const none = new LargestFlows(0);
    expect([none.wants(10, false), none.wants(10, true)]).toEqual([false, false]);
  });
});

describe('pipelines with largestRecords', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portsniff-largest-'));
    file = join(dir, 'mixed.pcap');
    writeFileSync(file, mixedCapture({ seed: 11, conversations: 2500 }).pcap);
  });
  afterAll(async () => {
    await closeIdleWorkers();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const workers of [0, 1, 2]) {
    it(`--workers ${workers}: the same top flows, violations, totals and services as with every record`, async () => {
      const N = 10;
      // Monitoring hosts that none of the capture's clients are in: every flow to a documented metrics
      // port is an exposure violation, so there are more violations than the summary lists.
      const classification = { ...RULES, monitoringHosts: '198.51.100.0/24' };
      const all = await runPipeline(file, options(workers, { classification }));
      const some = await runPipeline(file, options(workers, { classification, largestRecords: N }));
      const allFlows = all.flows.map((s) => JSON.parse(s) as ClassifiedFlow);
      const someFlows = some.flows.map((s) => JSON.parse(s) as ClassifiedFlow);
      expect(allFlows.length).toBeGreaterThan(1000);
      expect(someFlows.length).toBeLessThan(allFlows.length / 4);
      expect(allFlows.filter((f) => f.exposure?.status === 'violation').length).toBeGreaterThan(N);
      expect(summaryLists(someFlows, N)).toEqual(summaryLists(allFlows, N));
      expect(some.result.totals).toEqual(all.result.totals);
      expect(some.result.services).toEqual(all.result.services);
      // The records that are built are the same records.
      const byId = new Map(allFlows.map((f) => [f.id, JSON.stringify(f)]));
      for (const f of someFlows) expect(JSON.stringify(f)).toBe(byId.get(f.id));
    });
  }
});
