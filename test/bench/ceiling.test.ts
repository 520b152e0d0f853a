/**
 * bench/ceiling.ts: the minimal decode + flow loops (JavaScript and WebAssembly, reading ahead or
 * not, and C) count exactly what the engine counts on a generated capture, evictions included, and
 * the runner works end to end. No timing assertions (bench/README.md has the figures).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCLoop, buildJsLoop, buildWasmLoop, formatCeiling, runCeiling, runLoop } from '../../bench/ceiling.js';
import { generateCapture } from '../../bench/gen-capture.js';

const CLI = join(process.cwd(), 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'portsniff-ceiling-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'ceiling.pcap');
// 200 flows in 3.2 MB: the loops read 2 MiB at a time, so records cut between two reads are carried over.
// The loops key ICMP by address pair only, the engine by echo id too; no pair of this capture has two
// echo flows, so the flow counts agree.
const gen = generateCapture({ packets: 12_000, flows: 200, size: 'small', seed: 1, out: file });
const js = [process.execPath, buildJsLoop(tmp)];
const c = buildCLoop(tmp);
if (c === null) console.warn('ceiling.test: no C compiler (Debian package gcc): the C loop is not checked');
const wasm = buildWasmLoop(tmp);
if (wasm === null) console.warn('ceiling.test: assemblyscript is not installed (a dev dependency: npm ci): the WebAssembly loop is not checked');

function engineTotals(maxFlows: number): { packets: number; flows: number; evictedFlows: number } {
  const r = spawnSync(process.execPath, [CLI, 'replay', file, '--json', '--no-rules', '--max-flows', String(maxFlows)], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as { totals: { packets: number; flows: number; evictedFlows: number } }).totals;
}

describe('bench/ceiling loops', () => {
  for (const capacity of [262_144, 64]) {
    it(`count the engine's packets, flows and evictions (table of ${capacity} slots)`, () => {
      const counts = runLoop(js, file, capacity);
      const engine = engineTotals(capacity);
      expect(counts.slice(0, 4)).toEqual([engine.packets, engine.flows, engine.evictedFlows, 0]);
      expect(counts[0]).toBe(gen.packets);
      if (capacity === 64) expect(counts[2]).toBeGreaterThan(0);
      // Reading ahead, the WebAssembly build and the C program: the same counts and checksum of the counters.
      expect(runLoop(js, file, capacity, true)).toEqual(counts);
      if (wasm !== null) {
        expect(runLoop([process.execPath, wasm], file, capacity)).toEqual(counts);
        expect(runLoop([process.execPath, wasm], file, capacity, true)).toEqual(counts);
      }
      if (c !== null) expect(runLoop([c], file, capacity)).toEqual(counts);
      // With the engine's per-packet work: the same counts, a checksum that also covers the payload
      // bytes, TCP flags and history letters, and JavaScript and WebAssembly agree on it.
      const featured = runLoop(js, file, capacity, false, true);
      expect(featured.slice(0, 4)).toEqual(counts.slice(0, 4));
      expect(featured[4]).not.toBe(counts[4]);
      expect(runLoop(js, file, capacity, true, true)).toEqual(featured);
      if (wasm !== null) expect(runLoop([process.execPath, wasm], file, capacity, false, true)).toEqual(featured);
    });
  }

  it('a file that is not a little-endian pcap file is refused by both loops', () => {
    const bad = join(tmp, 'bad.pcap');
    writeFileSync(bad, Buffer.alloc(100, 7));
    expect(() => runLoop(js, bad)).toThrow(/only little-endian pcap files/);
    if (wasm !== null) expect(() => runLoop([process.execPath, wasm], bad)).toThrow(/only little-endian pcap files/);
    if (c !== null) expect(() => runLoop([c], bad)).toThrow(/only little-endian pcap files/);
  });
});

describe('bench/ceiling.ts', () => {
  it('times the loops next to portsniff --no-rules and tcpdump, medians per row', () => {
    const o = { file, runs: 1, cli: CLI, compare: true, capacity: 262_144 };
    const res = runCeiling(o);
    expect(res.counts.slice(0, 2)).toEqual([gen.packets, gen.flows]);
    const names = res.rows.map((r) => r.name);
    expect(names.slice(0, 3)).toEqual(['JavaScript loop (bench/ceiling-loop.ts)', 'JavaScript loop, reading ahead', "JavaScript loop + the engine's per-packet work"]);
    expect(names).toContain('portsniff --no-rules --workers 0');
    expect(names.includes('C loop (bench/ceiling.c, cc -O2)')).toBe(c !== null);
    expect(names.includes('WebAssembly loop, reading ahead')).toBe(wasm !== null);
    for (const r of res.rows) expect(r.wall).toBeGreaterThan(0);
    const text = formatCeiling(o, res);
    expect(text).toContain(`${gen.packets} packets, ${gen.flows} flows (0 evicted)`);
    expect(text).toMatch(/JavaScript loop, reading ahead +\d+\.\d{3} s {2}\d+\.\d{2}x the JavaScript loop/);
  });
});
