/**
 * The benchmark suite runs end to end on a tiny generated file (no timing assertions: machines are
 * noisy; the suite reports, this only checks that it runs and reports the expected rows), and the
 * generator is deterministic and produces the traffic it promises.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture, parseGenArgs } from '../../bench/gen-capture.js';
import { indexPcap } from '../../bench/micro.js';
import {
  FIGURES_END,
  FIGURES_START,
  README_PATH,
  formatMarkdownTable,
  formatReport,
  cpuSecondsOf,
  formatTable,
  median,
  parseSuiteArgs,
  recordFigures,
  runSuite,
  type SuiteResult,
} from '../../bench/run.js';

interface FlowLine {
  ipVersion: number;
  vlan: number[];
  verdict: string;
  anomalies: Record<string, number>;
  evidence: Record<string, string>;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  packets: { toServer: number; toClient: number };
}

const CLI = join(process.cwd(), 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'portsniff-bench-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bench/gen-capture.ts', () => {
  it('is deterministic: same options, same bytes; another seed, other bytes', () => {
    const a = join(tmp, 'a.pcap');
    const b = join(tmp, 'b.pcap');
    const c = join(tmp, 'c.pcap');
    const ga = generateCapture({ packets: 5000, flows: 300, size: 'small', out: a, seed: 7 });
    generateCapture({ packets: 5000, flows: 300, size: 'small', out: b, seed: 7 });
    generateCapture({ packets: 5000, flows: 300, size: 'small', out: c, seed: 8 });
    const ba = readFileSync(a);
    expect(ba.equals(readFileSync(b))).toBe(true);
    expect(ba.equals(readFileSync(c))).toBe(false);
    expect(ga.packets).toBe(5000);
    expect(ba.length).toBe(ga.fileBytes);
  });

  it('writes the promised mix: exact packet count, VLAN, IPv6, handshakes, verified payloads', () => {
    const path = join(tmp, 'mix.pcap');
    const g = generateCapture({ packets: 20_000, flows: 1000, size: 'small', out: path });
    expect(g.packets).toBe(20_000);
    expect(g.flows).toBe(1000);
    const file = readFileSync(path);
    const ix = indexPcap(file);
    expect(ix.count).toBe(20_000);
    let vlan = 0;
    let v6 = 0;
    let syn = 0;
    for (let i = 0; i < ix.count; i++) {
      const o = ix.offset[i]!;
      const et = file.readUInt16BE(o + 12);
      if (et === 0x8100) vlan++;
      const inner = et === 0x8100 ? file.readUInt16BE(o + 16) : et;
      if (inner === 0x86dd) v6++;
      const ip = o + (et === 0x8100 ? 18 : 14);
      if (inner === 0x0800 && file[ip + 9] === 6 && (file[ip + 20 + 13]! & 0x12) === 0x02) syn++;
    }
    expect(vlan).toBeGreaterThan(0);
    expect(v6 / ix.count).toBeGreaterThan(0.1);
    expect(syn).toBeGreaterThan(100);
    // Real first payloads: portsniff (the built CLI, --flows NDJSON) verifies most flows, and the
    // well-formed frames raise no anomaly.
    const r = spawnSync(process.execPath, [CLI, 'replay', path, '--flows', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const flows = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as FlowLine);
    expect(flows).toHaveLength(1000);
    expect(flows.every((f) => Object.keys(f.anomalies).length === 0)).toBe(true);
    const verified = flows.filter((f) => f.verdict === 'verified');
    expect(verified.length / flows.length).toBeGreaterThan(0.5);
    const protocols = new Set(verified.map((f) => f.evidence['protocol']));
    for (const p of ['resp', 'grpc', 'http1', 'tls', 'dns', 'zeebe-sbe']) expect(protocols).toContain(p);
    expect(verified.some((f) => f.evidence['grpcPath'] === '/gateway_protocol.Gateway/ActivateJobs')).toBe(true);
    expect(flows.some((f) => f.verdict === 'mismatch')).toBe(true);
    expect(flows.some((f) => f.vlan.length > 0 && f.ipVersion === 6)).toBe(true);
  });

  it('--tunnel vxlan: every frame in VXLAN on 4789, the same inner flows and verdicts as without', () => {
    const plainPath = join(tmp, 'plain.pcap');
    const vxPath = join(tmp, 'vxlan.pcap');
    generateCapture({ packets: 5000, flows: 300, size: 'small', out: plainPath });
    const g = generateCapture({ packets: 5000, flows: 300, size: 'small', out: vxPath, tunnel: 'vxlan' });
    expect(g.packets).toBe(5000);
    const file = readFileSync(vxPath);
    const ix = indexPcap(file);
    for (let i = 0; i < ix.count; i++) {
      const o = ix.offset[i]!;
      expect([file.readUInt16BE(o + 12), file[o + 23], file.readUInt16BE(o + 36), file[o + 42]]).toEqual([0x0800, 17, 4789, 0x08]);
    }
    const flowsOf = (path: string) => {
      const r = spawnSync(process.execPath, [CLI, 'replay', path, '--flows', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.status).toBe(0);
      return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as FlowLine & { tunnel?: unknown[] });
    };
    const key = (f: FlowLine) => JSON.stringify([f.client, f.server, f.packets, f.verdict, f.evidence]);
    const plain = flowsOf(plainPath);
    const inner = flowsOf(vxPath).filter((f) => f.tunnel !== undefined);
    expect(inner.map(key).sort()).toEqual(plain.map(key).sort());
    expect(parseGenArgs(['--out', 'x', '--tunnel', 'vxlan']).tunnel).toBe('vxlan');
    expect(() => parseGenArgs(['--out', 'x', '--tunnel', 'gre'])).toThrow(/--tunnel must be none or vxlan/);
  });
});

describe('bench/run.ts', () => {
  let result: SuiteResult;

  it('runs end to end on a tiny file: portsniff row measured, missing tools skipped with a note', async () => {
    const lines: string[] = [];
    result = await runSuite({
      packets: 20_000,
      flows: 1000,
      size: 'small',
      seed: 1,
      runs: 1,
      workers: [0],
      tools: ['portsniff', 'no-rules', 'flow-log', 'metrics', 'ipfix', 'tcpdump', 'tcpdump-filter', 'ndpiReader', 'tshark'],
      cli: CLI,
      keep: false,
      findTool: () => null, // as on a machine without tcpdump, nDPI and tshark
      log: (l) => lines.push(l),
    });
    expect(result.packets).toBe(20_000);
    const ids = result.rows.map((r) => r.id);
    // With --workers support the row is portsniff-w0; without it, the default pipeline and a note.
    expect(ids.length).toBe(5);
    expect(['portsniff-w0', 'portsniff']).toContain(ids[0]);
    expect(ids[1]).toBe('portsniff-no-rules');
    expect(result.rows[1]!.command).toMatch(/replay F --json --no-rules( --workers 0)?$/);
    expect(result.rows[1]!.detail).toMatch(/^20000 packets, 1000 flows/);
    // The flow log's row: the same run writing one record per flow.
    expect(ids[2]).toBe('portsniff-flow-log');
    expect(result.rows[2]!.command).toMatch(/replay F --json --flows \/dev\/null( --workers 0)?$/);
    expect(result.rows[2]!.detail).toMatch(/^20000 packets, 1000 flows/);
    // The fleet exports: Prometheus counters, and IPFIX to a collector that never reads (no send fails).
    expect(ids.slice(3)).toEqual(['portsniff-metrics', 'portsniff-ipfix']);
    expect(result.rows[3]!.command).toMatch(/replay F --json --metrics 127\.0\.0\.1:0( --workers 0)?$/);
    expect(result.rows[4]!.command).toMatch(/replay F --json --ipfix 127\.0\.0\.1:\d+( --workers 0)?$/);
    for (const r of result.rows.slice(3)) {
      expect(r.failed).toBeNull();
      expect(r.detail).toMatch(/^20000 packets, 1000 flows/);
    }
    const row = result.rows[0]!;
    expect(row.failed).toBeNull();
    expect(row.runs).toHaveLength(1);
    expect(row.wall).toBeGreaterThan(0);
    if (result.rssMethod === 'gnu-time') expect(row.cpu).toBeGreaterThan(0);
    else expect(row.cpu).toBeNull();
    expect(row.pps).toBeGreaterThan(0);
    expect(row.detail).toMatch(/^20000 packets, 1000 flows/);
    expect(row.vsPortsniff).toBe(1);
    expect(row.vsTcpdump).toBeNull();
    expect(row.vsTcpdumpFilter).toBeNull();
    expect(row.vsNdpi).toBeNull();
    expect(result.notes).toContain('tcpdump: not installed, skipped (Debian package tcpdump).');
    expect(result.notes).toContain('tcpdump-filter: not installed, skipped (Debian package tcpdump).');
    // The cost of classification: the full row against --no-rules, per flow of the file.
    expect(result.notes.find((n) => n.startsWith('classification: '))).toMatch(
      /^classification: --workers 0 ÷ --no-rules \d+\.\d{3} wall, (\d+\.\d{3}|-) CPU; per flow \(1000 flows\) -?\d+\.\d{2} µs wall, (-?\d+\.\d{2} µs|-) CPU\.$/,
    );
    expect(result.notes).toContain('ndpiReader: not installed, skipped (Debian package libndpi-bin).');
    expect(result.notes).toContain('tshark: not installed, skipped (Debian package tshark).');
    expect(result.notes).toContain('cat: not selected (--tools).');
    expect(lines.some((l) => l.includes('run 1'))).toBe(true);
  });

  it('warms the page cache right before every timed run, not once for the suite', async () => {
    // Some kernels reclaim page cache within seconds (this repository's VM: DAMON pageout), so the
    // command run after a slow one would otherwise re-read the file from disk.
    const file = join(tmp, 'warm.pcap');
    generateCapture({ packets: 2000, flows: 100, size: 'small', out: file });
    const events: string[] = [];
    await runSuite({
      file,
      packets: 0,
      flows: 0,
      size: 'small',
      seed: 1,
      runs: 2,
      workers: [0],
      tools: ['portsniff', 'cat'],
      cli: CLI,
      keep: true,
      findTool: (cmd) => (cmd === 'cat' ? '/bin/cat' : null),
      log: (l) => {
        if (/^\s+run \d/.test(l)) events.push(l.trim().split(':')[0]!);
      },
      warm: (f) => events.push(`warm ${f === file ? 'F' : f}`),
    });
    expect(events).toEqual([
      'warm F', expect.stringMatching(/^run 1 portsniff/),
      'warm F', 'run 1 cat',
      'warm F', expect.stringMatching(/^run 2 portsniff/),
      'warm F', 'run 2 cat',
    ]);
  });

  it('prints a table with the expected header and rows', () => {
    const table = formatTable(result).split('\n');
    expect(table[0]).toMatch(/^command\s+wall s \(median\)\s+CPU s\s+packets\/s\s+MB\/s\s+peak RSS MB\s+÷ portsniff.*÷ tcpdump\s+÷ tcpdump filter\s+÷ ndpiReader$/);
    expect(table[1]).toMatch(/^-+( +-+){9}$/);
    expect(table).toHaveLength(7);
    expect(table[2]).toMatch(/^node dist\/cli\/main\.js replay F --json( --workers 0)?\s+\d+\.\d{3}\s+(\d+\.\d{2}|-)\s+\S+\s+\d+\s+(\d+|-)\s+1\.00\s+-\s+-\s+-$/);
    const report = formatReport(result);
    expect(report).toContain('machine: ');
    expect(report).toContain('note: tcpdump: not installed');
    const md = formatMarkdownTable(result).split('\n');
    expect(md[0]).toMatch(/^\| command \| wall s \(median\) \|/);
    expect(md).toHaveLength(7);
  });

  it('--record rewrites only the block between the figure markers', () => {
    const copy = join(tmp, 'README.md');
    copyFileSync(README_PATH, copy);
    const before = readFileSync(copy, 'utf8');
    expect(before).toContain(FIGURES_START);
    recordFigures(result, 'npm run bench -- --packets 20000', copy);
    const after = readFileSync(copy, 'utf8');
    expect(after.slice(0, after.indexOf(FIGURES_START))).toBe(before.slice(0, before.indexOf(FIGURES_START)));
    expect(after.slice(after.indexOf(FIGURES_END))).toBe(before.slice(before.indexOf(FIGURES_END)));
    const block = after.slice(after.indexOf(FIGURES_START), after.indexOf(FIGURES_END));
    expect(block).toContain('npm run bench -- --packets 20000');
    expect(block).toMatch(/at commit `[0-9a-f]+(-dirty)?`|at commit `unknown`/);
    expect(block).toContain('| command | wall s (median) |');
    const noMarkers = join(tmp, 'plain.md');
    writeFileSync(noMarkers, '# no markers\n');
    expect(() => recordFigures(result, 'x', noMarkers)).toThrow(/markers/);
  });
});

describe('bench helpers', () => {
  it('CPU seconds from a GNU time -v report: user + system, null when a line is missing', () => {
    const report = [
      '\tCommand being timed: "node dist/cli/main.js replay F --json"',
      '\tUser time (seconds): 1.83',
      '\tSystem time (seconds): 0.21',
      '\tPercent of CPU this job got: 130%',
      '\tMaximum resident set size (kbytes): 110212',
    ].join('\n');
    expect(cpuSecondsOf(report)).toBeCloseTo(2.04, 10);
    expect(cpuSecondsOf('\tUser time (seconds): 1.83\n')).toBeNull();
    expect(cpuSecondsOf('')).toBeNull();
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('parses suite options and rejects bad ones', () => {
    const o = parseSuiteArgs(['--packets', '100_000', '--workers', '0,2,4', '--tools', 'portsniff,cat', '--runs', '5']);
    expect(o.packets).toBe(100_000);
    expect(o.workers).toEqual([0, 2, 4]);
    expect(o.tools).toEqual(['portsniff', 'cat']);
    expect(o.runs).toBe(5);
    expect(o.flows).toBe(50_000);
    expect(() => parseSuiteArgs(['--tools', 'wireshark'])).toThrow(/unknown tool wireshark/);
    expect(() => parseSuiteArgs(['--size', 'huge'])).toThrow(/--size/);
    expect(() => parseSuiteArgs(['--runs', '0'])).toThrow(/--runs/);
  });
});
