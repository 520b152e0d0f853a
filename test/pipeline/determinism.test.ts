/**
 * The worker pipeline's promise: `portsniff replay --json --flows` gives byte-identical output for
 * --workers 0, 1, 2 and 4 (only options.workers differs), on every corpus capture and on a generated
 * capture built to stress sharding (fragments, VLANs, IPv6, ICMP errors from routers, idle timeouts,
 * active timeouts, port reuse, timestamps stepping back).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFiles, corpusPath, corpusPresent, CORPUS_DIR, TUNNEL_CORPUS_DIR, tunnelCorpusFiles, tunnelCorpusPresent } from '../helpers/corpus.js';
import { closeIdleWorkers } from '../../src/pipeline/pipeline.js';
import { pairBucket, pairHash, parseAddress } from '../../src/flow/key.js';
import { backstepCapture, mixedCapture, stormCapture } from './mixed-capture.js';
import { tunnelledCapture } from './tunnel-capture.js';
import { replay, withoutWorkers, type CliRun } from './run.js';

const WORKERS = [0, 1, 2, 4];

async function runAll(capture: string, args: readonly string[] = []): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (const n of WORKERS) runs.push(await replay(capture, [...args, '--workers', String(n)]));
  return runs;
}

function expectIdentical(runs: CliRun[]): void {
  const [base, ...rest] = runs;
  for (const [i, r] of rest.entries()) {
    const n = WORKERS[i + 1];
    expect(r.code, `exit code, --workers ${n}`).toBe(base!.code);
    expect(r.stderr, `stderr, --workers ${n}`).toEqual(base!.stderr);
    expect(withoutWorkers(r.summaryText), `--json, --workers ${n}`).toBe(withoutWorkers(base!.summaryText));
    expect(r.flowsText, `--flows, --workers ${n}`).toBe(base!.flowsText);
    expect(r.summaryText).toContain(`"workers": ${n}`);
  }
}

afterAll(() => closeIdleWorkers());

describe('generated capture (fragments, VLANs, IPv6, ICMP errors, timeouts, port reuse)', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portsniff-determinism-'));
    file = join(dir, 'mixed.pcap');
    writeFileSync(file, mixedCapture({ seed: 7, conversations: 3000 }).pcap);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is byte-identical for 0, 1, 2 and 4 workers (idle and active timeouts on)', async () => {
    const runs = await runAll(file, ['--idle-timeout', '30', '--active-timeout', '4']);
    expectIdentical(runs);
    // The capture really exercises what it is meant to.
    const flows = runs[0]!.flowsText.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ends = new Set(flows.map((f) => f['end']));
    for (const e of ['idle-timeout', 'active-timeout', 'port-reuse', 'end-of-capture']) expect(ends, e).toContain(e);
    expect(flows.some((f) => (f['icmpErrors'] as number) > 0)).toBe(true);
    expect(flows.some((f) => (f['vlan'] as number[]).length === 2)).toBe(true);
    expect(flows.some((f) => f['ipVersion'] === 6)).toBe(true);
    const summary = JSON.parse(runs[0]!.summaryText) as { totals: { notIp: number; unattributed: number; anomalies: Record<string, number> } };
    expect(summary.totals.notIp).toBeGreaterThan(0);
    expect(summary.totals.anomalies['ip_fragment_without_first']).toBeGreaterThan(0);
    expect(summary.totals.anomalies['tcp_port_reuse']).toBeGreaterThan(0);
  });

  it('is byte-identical with the default timeouts and the text summary', async () => {
    const text: string[] = [];
    for (const n of WORKERS) {
      const r = await replay(file, ['--workers', String(n)]);
      text.push(withoutWorkers(r.summaryText) + r.flowsText);
    }
    expect(new Set(text).size).toBe(1);
  });
});

describe('generated tunnelled capture (the mixed capture inside VXLAN, Geneve, IP-in-IP, GRE, GTP-U, PPPoE, MPLS)', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portsniff-determinism-'));
    file = join(dir, 'tunnelled.pcap');
    writeFileSync(file, tunnelledCapture(11, 3000).pcap);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is byte-identical for 0, 1, 2 and 4 workers (idle and active timeouts on)', async () => {
    const runs = await runAll(file, ['--idle-timeout', '30', '--active-timeout', '4']);
    expectIdentical(runs);
    const flows = runs[0]!.flowsText.trim().split('\n').map((l) => JSON.parse(l) as {
      id: number; tunnel?: Array<{ type: string; id: number | null }>; client: { ip: string; port: number }; server: { ip: string; port: number };
      transport: string; end: string; icmpErrors: number;
    });
    // The capture really exercises what it is meant to: every tunnel type, inner flows whose host pair
    // lands on another worker than their tunnel's (with 2 and with 4 workers), the same inner 5-tuple
    // in two VNIs, port reuse and ICMP errors inside tunnels.
    const types = new Set(flows.flatMap((f) => (f.tunnel ?? []).map((t) => t.type)));
    expect([...types].sort()).toEqual(['geneve', 'gre', 'gtp-u', 'ip-in-ip', 'mpls', 'pppoe', 'vxlan']);
    const addr = (a: string): number[] => { const p = parseAddress(a)!; return [p[1], p[2], p[3], p[4]]; };
    const bucket = (a: string, b: string): number => { const [x, y] = [addr(a), addr(b)]; return pairBucket(pairHash(x[0]!, x[1]!, x[2]!, x[3]!, y[0]!, y[1]!, y[2]!, y[3]!, 0)); };
    const inner = flows.filter((f) => f.tunnel !== undefined && f.tunnel[0]!.type === 'vxlan');
    expect(inner.length).toBeGreaterThan(100);
    const outerOf = (f: (typeof flows)[number]) => (f.tunnel as unknown as Array<{ outer: { src: string; dst: string } }>)[0]!.outer;
    for (const n of [2, 4]) {
      expect(inner.filter((f) => bucket(f.client.ip, f.server.ip) % n !== bucket(outerOf(f).src, outerOf(f).dst) % n).length).toBeGreaterThan(20);
    }
    const key = (f: (typeof flows)[number]) => `${f.transport} ${f.client.ip}:${f.client.port} ${f.server.ip}:${f.server.port}`;
    const vnis = new Map<string, Set<number>>();
    for (const f of inner) vnis.set(key(f), (vnis.get(key(f)) ?? new Set()).add(f.tunnel!.at(-1)!.id!));
    expect([...vnis.values()].some((v) => v.size === 2)).toBe(true);
    expect(flows.some((f) => f.tunnel !== undefined && f.end === 'port-reuse')).toBe(true);
    expect(flows.some((f) => f.tunnel !== undefined && f.icmpErrors > 0)).toBe(true);
  });
});

describe('stress captures', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portsniff-determinism-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('floods of fragments and of half-sent requests (shared bounded pools) give identical output', async () => {
    const file = join(dir, 'storm.pcap');
    writeFileSync(file, stormCapture().pcap);
    const runs = await runAll(file);
    expectIdentical(runs);
    const summary = JSON.parse(runs[0]!.summaryText) as { totals: { anomalies: Record<string, number> } };
    // The fragment table overflowed (some later fragments lost their first) ...
    expect(summary.totals.anomalies['ip_fragment_without_first']).toBeGreaterThan(0);
    // ... and the reassembly buffers ran out: some requests were recognised whole, some not at all.
    const requests = runs[0]!.flowsText.split('\n').filter((l) => l.includes('"server":{"ip":"10.4.'));
    expect(requests).toHaveLength(2600);
    expect(requests.some((l) => l.includes('"evidence":{}'))).toBe(true);
    expect(requests.some((l) => l.includes('"httpPath":"/metrics"'))).toBe(true);
  });

  it('timestamps stepping back: a flow idles out when due even behind a younger one on another worker', async () => {
    // Two host pairs that land on different workers with 2 and with 4 workers.
    const addr = (a: string): number => parseAddress(a)![4];
    const bucketOf = (a: string, b: string): number => pairBucket(pairHash(0, 0, 0, addr(a), 0, 0, 0, addr(b), 0));
    const pairs = Array.from({ length: 256 }, (_, i) => [`10.9.0.${i}`, `10.9.1.${i}`] as [string, string]);
    const g = pairs.find((p) => bucketOf(...p) % 4 === 0)!;
    const h = pairs.find((p) => bucketOf(...p) % 4 === 1)!;
    const file = join(dir, 'backstep.pcap');
    writeFileSync(file, backstepCapture(g, h).pcap);
    const runs = await runAll(file, ['--idle-timeout', '30']);
    expectIdentical(runs);
    const flows = runs[0]!.flowsText.trim().split('\n').map((l) => JSON.parse(l) as { client: { ip: string }; last: string; end: string });
    // H (seen at t = 97) ends first, at t = 128, although G (t = 100) is ahead of it in the LRU list.
    expect(flows.map((f) => f.client.ip)).toEqual([h[0], g[0]]);
    expect(flows.map((f) => f.end)).toEqual(['idle-timeout', 'idle-timeout']);
  });
});

describe('broken and compressed files (one worker reads the file itself; more take chunks from the main thread)', () => {
  let dir = '';
  let bytes: Buffer = Buffer.alloc(0);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portsniff-determinism-'));
    bytes = Buffer.from(mixedCapture({ seed: 9, conversations: 2000 }).pcap);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Exit code, stderr (warning or error with file and offset), --json and --flows: identical. */
  async function identical(name: string, content: Uint8Array): Promise<CliRun> {
    const file = join(dir, name);
    writeFileSync(file, content);
    const runs = await runAll(file);
    expectIdentical(runs);
    return runs[0]!;
  }

  it('a file cut inside a record: the warning, and every whole record', async () => {
    const r = await identical('cut.pcap', bytes.subarray(0, 700_001));
    expect(r.code).toBe(0);
    expect(r.stderr.join('\n')).toMatch(/warning: .*cut\.pcap: .* at byte offset \d+/);
  });

  it('an impossible record length after the first read: what was read, then exit 1 with file and offset', async () => {
    const bad = Buffer.from(bytes.subarray(0, 900_000));
    let at = 24;
    while (at < 600_000) at += 16 + bad.readUInt32LE(at + 8);
    bad.writeUInt32LE(0x7fffffff, at + 8);
    const r = await identical('bad-length.pcap', bad);
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain(`at byte offset ${at}`);
    expect((JSON.parse(r.summaryText) as { totals: { packets: number } }).totals.packets).toBeGreaterThan(1000);
  });

  it('gzip: whole, cut short, corrupt', async () => {
    const gz = gzipSync(bytes);
    expect((await identical('whole.pcap.gz', gz)).code).toBe(0);
    expect((await identical('short.pcap.gz', gz.subarray(0, Math.floor(gz.length / 2)))).stderr.join('\n')).toMatch(/warning: /);
    const corrupt = Buffer.from(gz);
    for (let i = 2000; i < 2040; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    expect((await identical('corrupt.pcap.gz', corrupt)).code).toBe(1);
  });

  it('not a capture, and no such file', async () => {
    expect((await identical('text.pcap', Buffer.from('hello, this is not a capture file at all'))).code).toBe(1);
    const runs = await runAll(join(dir, 'missing.pcap'));
    expectIdentical(runs);
    expect(runs[0]!.stderr.join('\n')).toMatch(/cannot open capture file .*missing\.pcap/);
  });
});

if (!corpusPresent) console.warn(`[portsniff tests] ${CORPUS_DIR} is absent: the corpus determinism tests are SKIPPED`);

describe.skipIf(!corpusPresent)('every corpus capture', () => {
  it.each(corpusFiles())('%s is byte-identical for 0, 1, 2 and 4 workers', async (name) => {
    expectIdentical(await runAll(corpusPath(name)));
  });
});

if (!tunnelCorpusPresent) console.warn(`[portsniff tests] ${TUNNEL_CORPUS_DIR} is absent: the tunnel corpus determinism tests are SKIPPED`);

describe.skipIf(!tunnelCorpusPresent)('every tunnel corpus capture (inner flows on other workers than their outer flows)', () => {
  it.each(tunnelCorpusFiles())('%s is byte-identical for 0, 1, 2 and 4 workers', async (name) => {
    expectIdentical(await runAll(TUNNEL_CORPUS_DIR + name));
  });
});
