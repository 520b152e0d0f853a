/**
 * Snapshot cost at scale (`npm run bench:snapshot`): what one Engine.snapshot() costs with N live
 * flows, for the per-service totals (exporters) and with the dashboard's detail lists, on the
 * first snapshot (every flow's classification computed) and in steady state (classifications
 * cached, only counters read). The losing alternative stays as a case: classifying every live flow
 * again with its evidence record on every snapshot (what snapshots did before live-view.ts).
 *
 *   npm run bench:snapshot                          # 100k and 1M live flows
 *   npm run bench:snapshot -- --flows 100000 --runs 10
 *   npm run bench:snapshot -- --tunnel vxlan        # every flow inside VXLAN (live encapsulation counts)
 *
 * The capture is generated into a temp dir (bench/gen-capture.ts) with every flow still live at
 * the end (long idle timeout, --max-flows above the flow count). Nothing is written into the repo.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCaptureFile } from '../src/capture/file.js';
import { Engine } from '../src/pipeline/engine.js';
import { buildClassification } from '../src/pipeline/classification.js';
import { serviceKey } from '../src/pipeline/service-stats.js';
import { defaultRulesDir, loadRuleDirs } from '../src/rules/load.js';
import type { Classification } from '../src/classify/types.js';
import { generateCapture } from './gen-capture.js';

const { values } = parseArgs({
  options: {
    flows: { type: 'string', default: '100000,1000000' },
    runs: { type: 'string', default: '15' },
    tunnel: { type: 'string', default: 'none' },
  },
});
if (values.tunnel !== 'none' && values.tunnel !== 'vxlan') throw new RangeError(`--tunnel must be none or vxlan (got ${values.tunnel})`);
const tunnel = values.tunnel;
const flowCounts = values.flows.split(',').map(Number);
const runs = Number(values.runs);
const ruleSet = loadRuleDirs([defaultRulesDir()]);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function ms(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** The old way: every live flow classified with evidence and summed under a string key. */
function reclassifyAll(engine: Engine): number {
  const t = engine.table;
  const classifier = (engine as unknown as { classifier: { peek(t: unknown, s: number): Classification } }).classifier;
  const map = new Map<string, number>();
  for (const s of t.liveSlots()) {
    const c = classifier.peek(t, s);
    const k = serviceKey(c);
    map.set(k, (map.get(k) ?? 0) + t.bytesToServer(s) + t.bytesToClient(s));
  }
  return map.size;
}

const dir = mkdtempSync(join(tmpdir(), 'portsniff-bench-snapshot-'));
try {
  if (tunnel !== 'none') console.log(`every frame inside ${tunnel}: live flows are the inner flows plus the outer tunnel flows`);
  console.log('live flows | first snapshot (totals) | steady (totals) | steady (with detail) | re-classify every flow (old way)');
  for (const flows of flowCounts) {
    const out = join(dir, `flows-${flows}.pcap`);
    // Two packets per flow, all flows open at once: every flow is live at the end.
    const gen = generateCapture({ packets: flows * 2, flows, size: 'small', out, concurrency: flows, pps: 1_000_000, tunnel });
    const c = buildClassification({ ruleSet, evidenceDetail: true });
    const maxFlows = Math.ceil(flows * 1.25);
    const engine = new Engine({ maxFlows, idleTimeout: 1e9, activeTimeout: 0, classifier: c.makeClassifier(maxFlows), documentedPorts: c.documentedPorts });
    await readCaptureFile(out, engine);
    const live = engine.table.live;
    const first = ms(() => engine.snapshot(true, false));
    const steady = median(Array.from({ length: runs }, () => ms(() => engine.snapshot(true, false))));
    const detail = median(Array.from({ length: runs }, () => ms(() => engine.snapshot(true, true))));
    const old = median(Array.from({ length: Math.min(runs, 3) }, () => ms(() => reclassifyAll(engine))));
    console.log(`${live.toLocaleString('en')} (${gen.packets.toLocaleString('en')} packets) | ${first.toFixed(1)} ms | ${steady.toFixed(1)} ms | ${detail.toFixed(1)} ms | ${old.toFixed(1)} ms`);
    rmSync(out, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
