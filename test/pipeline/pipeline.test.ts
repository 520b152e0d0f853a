/**
 * The worker pipeline's plumbing: chunk boundaries, oversized records, gzip and stdin input, live
 * feeding through the sink, backpressure (bounded pool, waiting reader, counted drops), worker
 * failures (clear error, partial statistics, no hang) and snapshots. Each compares with the
 * in-process engine where there is something to compare. No timed assertions: waits poll a state.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCaptureFile } from '../../src/capture/file.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import type { FrameSink } from '../../src/capture/types.js';
import { ErrorCode, PortsniffError } from '../../src/errors.js';
import { Engine, type ClassifiedFlow } from '../../src/pipeline/engine.js';
import { FlowTable } from '../../src/flow/table.js';
import { buildClassification } from '../../src/pipeline/classification.js';
import { unknownPortList } from '../../src/pipeline/port-stats.js';
import { closeIdleWorkers, createPipeline, defaultWorkers } from '../../src/pipeline/pipeline.js';
import { mergeSnapshots, type Snapshot } from '../../src/pipeline/snapshot.js';
import { ipv4Udp } from '../../fixtures/gen/packet-builder.js';
import { comparable, options, releaser, RULES, runPipeline, type PipelineRun } from './helpers.js';
import { mixedCapture } from './mixed-capture.js';
import { DEMO_TUNNELS_CAPTURE } from '../../fixtures/gen/demo-tunnels.js';
import { DEMO_CAPTURE } from '../../fixtures/gen/demo.js';
import { replay, withoutWorkers } from './run.js';
import { generateCapture } from '../../bench/gen-capture.js';

let dir = '';
let mixedFile = '';
let mixedPackets = 0;
let inProcess: PipelineRun;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portsniff-pipeline-'));
  mixedFile = join(dir, 'mixed.pcap');
  const m = mixedCapture({ seed: 3, conversations: 2500 });
  mixedPackets = m.packets;
  writeFileSync(mixedFile, m.pcap);
  inProcess = await runPipeline(mixedFile, options(0));
});

afterAll(async () => {
  await closeIdleWorkers();
  rmSync(dir, { recursive: true, force: true });
});

describe('the in-process engine', () => {
  it('emits finished flows in end-key order (trigger, phase, last), evictions and timeouts included', async () => {
    const keys: number[][] = [];
    const reasons = new Set<string>();
    const engine = new Engine({
      maxFlows: 64,
      idleTimeout: 20,
      activeTimeout: 5,
      onFlow: (f: ClassifiedFlow, trigger, phase, last) => {
        keys.push([trigger, phase, last]);
        reasons.add(f.end);
      },
    });
    await readCaptureFile(mixedFile, engine);
    engine.finish();
    expect([...reasons].sort()).toEqual(['active-timeout', 'end-of-capture', 'evicted', 'idle-timeout', 'port-reuse']);
    for (let i = 1; i < keys.length; i++) {
      const [a, b] = [keys[i - 1]!, keys[i]!];
      const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      expect(cmp, `flow ${i}: ${a.join(',')} then ${b.join(',')}`).toBeLessThan(0);
    }
  });

  it('without a flow log or live view the end-of-capture flush walks slots in memory order, with the same summary', async () => {
    const flush = vi.spyOn(FlowTable.prototype, 'flush');
    try {
      const summary = async (onFlow: boolean): Promise<unknown> => {
        const classification = buildClassification(RULES);
        const engine = new Engine({
          maxFlows: 5000,
          idleTimeout: 20,
          activeTimeout: 0,
          classifier: classification.makeClassifier(5000),
          documentedPorts: classification.documentedPorts,
          ...(onFlow ? { onFlow: () => {} } : {}),
        });
        await readCaptureFile(mixedFile, engine);
        engine.finish();
        // Unknown ports are kept in the order first met; outputs list them sorted.
        const ports = engine.ports.toData();
        return { totals: engine.totals(), services: engine.services.list(), seen: ports.seenPorts, unknown: unknownPortList(ports) };
      };
      const bySlot = await summary(false);
      expect(flush).toHaveBeenLastCalledWith(false);
      const inLruOrder = await summary(true);
      expect(flush).toHaveBeenLastCalledWith(true);
      expect(bySlot).toEqual(inLruOrder);
    } finally {
      flush.mockRestore();
    }
  });

  it('snapshots include live flows', async () => {
    const engine = new Engine({ maxFlows: 1000, idleTimeout: 60, activeTimeout: 0 });
    const f = ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 53, payload: 'x' });
    engine.frame(f, 0, f.length, f.length, 1_700_000_000, 0, 1);
    const s = engine.snapshot();
    expect(s.workers).toBe(0);
    expect(s.totals.liveFlows).toBe(1);
    expect(s.services).toEqual([expect.objectContaining({ key: 'unclassified', flows: 1, packets: { toServer: 1, toClient: 0 } })]);
  });
});

describe('worker pipeline output equals the in-process engine', () => {
  it('flows as JSON text (a flow log alone): the lines JSON.stringify makes of the records, with 0, 1 or 2 workers, and no records', async () => {
    for (const workers of [0, 1, 2]) {
      const r = await runPipeline(mixedFile, options(workers, { flowsAsJson: true }));
      expect(r.flows.length).toBe(inProcess.flows.length);
      expect(r.flows).toEqual(inProcess.flows);
    }
  });

  it('flows as JSON text with the text summary\'s lists (largestRecords): every flow\'s line, and records only for the lists, as without lines', async () => {
    for (const workers of [0, 1, 2]) {
      const listsOnly = await runPipeline(mixedFile, options(workers, { largestRecords: 5 }));
      expect(listsOnly.flows.length).toBeLessThan(inProcess.flows.length / 4);
      const p = createPipeline(options(workers, { flowsAsJson: true, largestRecords: 5 }));
      const lines: string[] = [];
      const records: string[] = [];
      p.onFlowJson((line) => lines.push(line));
      p.onFlow((f) => records.push(JSON.stringify(f)));
      await p.runFile(mixedFile);
      await p.finish();
      await p.close();
      expect(lines).toEqual(inProcess.flows);
      expect(records).toEqual(listsOnly.flows);
    }
  });

  it('tallies (metrics): every flow\'s transport, counts and verdict, in the records\' order (end of capture included), with 0, 1 or 2 workers, and no records', async () => {
    // What a tally carries, read from a record: the records of the in-process run are the reference.
    const fields = ['transport', 'packets', 'bytes', 'payloadBytes', 'service', 'verdict', 'ambiguous', 'candidates', 'exposure'] as const;
    const pick = (f: Record<string, unknown>): string => JSON.stringify(Object.fromEntries(fields.map((k) => [k, f[k]])));
    const expected = inProcess.flows.map((line) => pick(JSON.parse(line) as Record<string, unknown>));
    expect(new Set(expected).size).toBeGreaterThan(20);
    for (const workers of [0, 1, 2]) {
      // (Each worker keeps its own largest: the lists' records depend on the number of workers.)
      const listsOnly = (await runPipeline(mixedFile, options(workers, { largestRecords: 5 }))).flows;
      for (const extra of [{ flows: false }, { largestRecords: 5 }] as const) {
        const p = createPipeline(options(workers, { tallies: true, ...extra }));
        const tallies: string[] = [];
        const records: ClassifiedFlow[] = [];
        // Read during the call: the engine refills one object.
        p.onTally((x) => tallies.push(pick(x as Record<string, unknown>)));
        p.onFlow((f) => records.push(f));
        await p.runFile(mixedFile);
        await p.finish();
        await p.close();
        expect(tallies).toEqual(expected);
        // Records only for the text summary's lists, as without tallies.
        expect(records.map((f) => JSON.stringify(f))).toEqual('flows' in extra ? [] : listsOnly);
      }
    }
  });

  it.each([
    ['1 worker, default chunks', 1, {}],
    ['2 workers, 64 KiB chunks, pool of 2 (records cut by every chunk end)', 2, { chunkBytes: 65536, poolChunks: 2 }],
    ['3 workers, 64 KiB chunks', 3, { chunkBytes: 65536, poolChunks: 3 }],
  ] as const)('%s', async (_name, workers, extra) => {
    const r = await runPipeline(mixedFile, options(workers, extra));
    expect(comparable(r)).toEqual(comparable(inProcess));
    expect(r.result.totals.packets).toBe(mixedPackets);
    const p = r.pipeline.pressure();
    expect(p.maxInFlight).toBeLessThanOrEqual(p.poolChunks);
  });

  it('each of 2 or 3 workers takes its own common packets through the fast path, with the same output', async () => {
    const file = join(dir, 'long-flows.pcap');
    const g = generateCapture({ packets: 40_000, flows: 400, size: 'mixed', seed: 21, out: file });
    const alone = await runPipeline(file, options(0));
    expect(alone.result.fastRecords).toBeGreaterThan(g.packets * 0.6);
    for (const [workers, extra] of [[2, {}], [3, { chunkBytes: 65536, poolChunks: 3 }]] as const) {
      const r = await runPipeline(file, options(workers, extra));
      expect(comparable(r), `${workers} workers`).toEqual(comparable(alone));
      // Every worker's share of the records, less its flows' first packets and what it must hand
      // to the engine: the same records as the engine alone takes, give or take the back-off.
      expect(r.result.fastRecords, `${workers} workers`).toBeGreaterThan(g.packets * 0.6);
    }
  });

  it('a record larger than a chunk gets a larger chunk', async () => {
    const file = join(dir, 'big-records.pcap');
    const fd: Uint8Array[] = [];
    const w = new PcapWriter(fd, { linkType: 1, snaplen: 262144 });
    for (let i = 0; i < 40; i++) {
      const size = i % 5 === 0 ? 200_000 : 300;
      w.writePacket(1_700_000_000 + i, 0, ipv4Udp({ src: `10.0.0.${i}`, dst: '10.0.1.1', sport: 1000 + i, dport: 53, payload: 'p'.repeat(size) }));
    }
    w.close();
    writeFileSync(file, Buffer.concat(fd));
    const a = await runPipeline(file, options(0));
    const b = await runPipeline(file, options(2, { chunkBytes: 65536, poolChunks: 2 }));
    expect(comparable(b)).toEqual(comparable(a));
    expect(b.result.totals.packets).toBe(40);
  });

  it('reads gzip files and gzip on stdin', async () => {
    const gz = join(dir, 'mixed.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(mixedFile)));
    const fromFile = await runPipeline(gz, options(2, { chunkBytes: 65536 }));
    expect(comparable(fromFile)).toEqual(comparable(inProcess));
    const stdin = Readable.from([readFileSync(gz)]);
    const fromStdin = await runPipeline('-', options(2), { stdin });
    expect({ ...(comparable(fromStdin) as object), read: null }).toEqual({ ...(comparable(inProcess) as object), read: null });
    expect(fromStdin.read?.packets).toBe(mixedPackets);
  });

  it('reads stdin that arrives in small pieces with pauses', async () => {
    const bytes = readFileSync(mixedFile);
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < bytes.length; off += 77_777) {
        if ((off / 77_777) % 5 === 0) await new Promise((r) => setTimeout(r, 25)); // the reader hands over what it has
        yield bytes.subarray(off, Math.min(off + 77_777, bytes.length));
      }
    }
    const r = await runPipeline('-', options(2, { chunkBytes: 65536, poolChunks: 3 }), { stdin: Readable.from(pieces()) });
    expect({ ...(comparable(r) as object), read: null }).toEqual({ ...(comparable(inProcess) as object), read: null });
  });

  it('`replay -` with workers gives the same output as without', async () => {
    const bytes = readFileSync(mixedFile);
    const a = await replay('-', ['--workers', '0'], Readable.from([bytes]));
    const b = await replay('-', ['--workers', '2'], Readable.from([bytes]));
    expect(b.code).toBe(0);
    expect(withoutWorkers(b.summaryText)).toBe(withoutWorkers(a.summaryText));
    expect(b.flowsText).toBe(a.flowsText);
  });

  it('counts live flows into snapshot services only with liveServices (the default); without, workers keep no live view', async () => {
    const packets = inProcess.result.totals.packets;
    for (const workers of [0, 2]) {
      for (const liveServices of [true, false]) {
        const p = createPipeline(options(workers, { liveServices, snapshotIntervalMs: 10 }));
        let last: Snapshot | null = null;
        p.onSnapshot((s) => (last = s));
        await p.runFile(mixedFile);
        // Workers post statistics on their own timer: wait until they have seen every record.
        for (let i = 0; i < 500 && (last === null || (last as Snapshot).totals.packets < packets); i++) await new Promise((r) => setTimeout(r, 10));
        const snap = p.snapshot();
        await p.finish();
        await p.close();
        const what = `workers ${workers}, liveServices ${liveServices}`;
        expect(snap.totals.packets, what).toBe(packets);
        expect(snap.totals.liveFlows, what).toBeGreaterThan(0);
        const live = snap.services.reduce((n, s) => n + s.liveFlows, 0);
        if (liveServices) expect(live, what).toBe(snap.totals.liveFlows);
        else expect(live, what).toBe(0);
      }
    }
  });

  it('takes records pushed into its sink (live feeding)', async () => {
    const p = createPipeline(options(2));
    const flows: string[] = [];
    p.onFlow((f) => flows.push(JSON.stringify(f)));
    await readCaptureFile(mixedFile, p.sink);
    const result = await p.finish();
    await p.close();
    expect(result.engineDrops).toBe(0);
    expect(flows).toEqual(inProcess.flows);
    expect(result.totals).toEqual(inProcess.result.totals);
  });

  it('reports capture errors like the in-process reader, after the records before them', async () => {
    const bytes = readFileSync(mixedFile);
    const broken = join(dir, 'broken.pcap');
    const cut = Buffer.from(bytes.subarray(0, 300_000));
    // An impossible record length in the middle of the file.
    const at = 24 + 16 + ((cut[24 + 8]! | (cut[24 + 9]! << 8)) >>> 0);
    cut.writeUInt32LE(0x7fffffff, at + 8);
    writeFileSync(broken, cut);
    const a = await runPipeline(broken, options(0));
    const b = await runPipeline(broken, options(2, { chunkBytes: 65536 }));
    expect((b.readError as PortsniffError).message).toBe((a.readError as PortsniffError).message);
    expect((b.readError as { partial?: unknown }).partial).toEqual((a.readError as { partial?: unknown }).partial);
    expect(comparable(b)).toEqual(comparable(a));
    expect(a.result.totals.packets).toBe(1);
  });

  it('a gzip capture cut short or corrupt: the same warning or error as the in-process reader, from a file and from stdin', async () => {
    const gz = gzipSync(readFileSync(mixedFile));
    const short = gz.subarray(0, Math.floor(gz.length / 2));
    const corrupt = Buffer.from(gz);
    for (let i = 2000; i < 2040; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    for (const [name, bytes] of [['short.pcap.gz', short], ['corrupt.pcap.gz', corrupt]] as const) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const a = await runPipeline(path, options(0));
      const b = await runPipeline(path, options(2, { chunkBytes: 65536 }));
      expect(comparable(b), name).toEqual(comparable(a));
      expect((b.readError as Error | null)?.message, name).toBe((a.readError as Error | null)?.message);
      const stdinA = await runPipeline('-', options(0), { stdin: Readable.from([bytes]) });
      const stdinB = await runPipeline('-', options(2, { chunkBytes: 65536 }), { stdin: Readable.from([bytes]) });
      expect(comparable(stdinB), name).toEqual(comparable(stdinA));
      expect((stdinB.readError as Error | null)?.message, name).toBe((stdinA.readError as Error | null)?.message);
    }
    const cut = await runPipeline(join(dir, 'short.pcap.gz'), options(2));
    // The record the cut falls into is reported (the gzip warning comes only when no record is cut).
    expect(cut.read?.truncated?.message).toMatch(/^file ends inside pcap record|^the gzip stream ends early/);
    expect(cut.read!.packets).toBeGreaterThan(0);
    const bad = await runPipeline(join(dir, 'corrupt.pcap.gz'), options(2));
    expect((bad.readError as PortsniffError).code).toBe(ErrorCode.Decompress);
    expect((bad.readError as Error).message).toContain(`cannot decompress ${join(dir, 'corrupt.pcap.gz')}`);
  });
});

describe('backpressure', () => {
  it('a stalled worker makes the reader wait; chunks in flight never exceed the pool', async () => {
    const stall = releaser();
    const p = createPipeline(options(2, { chunkBytes: 65536, poolChunks: 2, failureHook: { worker: 1, afterPackets: 0, kind: 'stall', release: stall.buffer } }));
    const flows: string[] = [];
    p.onFlow((f) => flows.push(JSON.stringify(f)));
    let settled = false;
    const reading = p.runFile(mixedFile).finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(p.pressure().readerWaits).toBeGreaterThan(0), { timeout: 30_000, interval: 5 });
    expect(settled).toBe(false);
    expect(p.pressure().inFlight).toBe(2);
    stall.release();
    const read = await reading;
    const result = await p.finish();
    await p.close();
    expect(p.pressure().maxInFlight).toBe(2);
    expect(read.packets).toBe(mixedPackets);
    expect(flows).toEqual(inProcess.flows);
    expect(result.totals).toEqual(inProcess.result.totals);
  });

  it('live feeding never blocks: what does not fit is dropped and counted', async () => {
    const stall = releaser();
    const p = createPipeline(options(1, { chunkBytes: 65536, poolChunks: 2, failureHook: { worker: 0, afterPackets: 0, kind: 'stall', release: stall.buffer } }));
    let offered = 0;
    const counting: FrameSink = {
      frame: (...args) => {
        offered++;
        p.sink.frame(...args);
      },
    };
    await readCaptureFile(mixedFile, counting);
    expect(p.tryAcquire()).toBe(false);
    expect(p.snapshot().engineDrops).toBeGreaterThan(0);
    stall.release();
    const result = await p.finish();
    await p.close();
    expect(offered).toBe(mixedPackets);
    expect(result.engineDrops).toBeGreaterThan(0);
    expect(result.totals.packets + result.engineDrops).toBe(offered);
  });
});

describe('a worker that dies', () => {
  it.each(['throw', 'exit', 'oom'] as const)('(%s) ends the run with PSN_ERR_WORKER and the statistics so far', async (kind) => {
    const r = await runPipeline(mixedFile, options(2, { chunkBytes: 65536, poolChunks: 3, failureHook: { worker: 1, afterPackets: 300, kind } }));
    expect(r.result.error?.code).toBe(ErrorCode.Worker);
    expect(r.result.error?.message).toMatch(/^worker 1 failed: /);
    if (kind === 'throw') expect(r.result.error?.message).toContain('test hook: worker 1 fails after');
    if (kind === 'exit') expect(r.result.error?.message).toContain('exited unexpectedly with code 70');
    if (kind === 'oom') expect(r.result.error?.message).toMatch(/out of memory/);
    if (r.readError !== null) {
      expect(r.readError).toBeInstanceOf(PortsniffError);
      expect((r.readError as PortsniffError).code).toBe(ErrorCode.Worker);
    }
    // Worker 0 finished what it was given; worker 1 counted at least the packets before the hook.
    expect(r.result.totals.packets).toBeGreaterThan(300);
    expect(r.result.totals.packets).toBeLessThanOrEqual(mixedPackets);
    expect(r.result.services.length).toBeGreaterThan(0);
  });

  it('`replay` exits 1 with the error on stderr and in the --json summary', async () => {
    process.env['PORTSNIFF_TEST_WORKER_FAILURE'] = '1:200:throw';
    try {
      const r = await replay(mixedFile, ['--workers', '2']);
      expect(r.code).toBe(1);
      expect(r.stderr.join('\n')).toMatch(/portsniff: error: worker 1 failed: test hook: worker 1 fails after \d+ packets/);
      const s = JSON.parse(r.summaryText) as { source: { error: { code: string } }; totals: { packets: number } };
      expect(s.source.error.code).toBe('PSN_ERR_WORKER');
      expect(s.totals.packets).toBeGreaterThan(200);
    } finally {
      delete process.env['PORTSNIFF_TEST_WORKER_FAILURE'];
    }
  });
});

describe('snapshots', () => {
  it('merge sums the parts and keeps services sorted', () => {
    const part = (packets: number, key: string, takenAt: number): Snapshot => ({
      takenAt,
      workers: 2,
      totals: {
        ...inProcess.result.totals,
        packets,
        anomalies: { b_code: 1, a_code: packets },
        packetsByLinkType: { '1': packets },
        firstSec: 10,
        firstNsec: 5,
        lastSec: packets,
        lastNsec: 0,
      },
      services: [{ ...inProcess.result.services[0]!, key, flows: 1, liveFlows: 1 }],
      engineDrops: 0,
      inFlightChunks: 0,
    });
    const m = mergeSnapshots([part(7, 'zz', 100), part(3, 'aa', 200)], { workers: 2, engineDrops: 4, inFlightChunks: 1 });
    expect(m.takenAt).toBe(200);
    expect(m.totals.packets).toBe(10);
    expect(m.totals.anomalies).toEqual({ a_code: 10, b_code: 2 });
    expect(Object.keys(m.totals.anomalies)).toEqual(['a_code', 'b_code']);
    expect(m.totals.packetsByLinkType).toEqual({ '1': 10 });
    expect(m.totals.lastSec).toBe(7);
    expect(m.services.map((s) => s.key)).toEqual(['aa', 'zz']);
    expect(m.services.map((s) => s.liveFlows)).toEqual([1, 1]);
    expect(m.engineDrops).toBe(4);
  });

  it('arrive while workers run, with live flows, and end equal to the final totals', async () => {
    const stall = releaser();
    const p = createPipeline(options(2, { chunkBytes: 65536, poolChunks: 2, snapshotIntervalMs: 10, failureHook: { worker: 1, afterPackets: 1, kind: 'stall', release: stall.buffer } }));
    const seen: Snapshot[] = [];
    p.onSnapshot((s) => seen.push(s));
    const reading = p.runFile(mixedFile);
    await vi.waitFor(() => expect(seen.some((s) => s.totals.liveFlows > 0 && s.services.some((e) => e.liveFlows > 0))).toBe(true), { timeout: 30_000, interval: 5 });
    expect(seen.every((s) => s.workers === 2)).toBe(true);
    stall.release();
    await reading;
    const result = await p.finish();
    await p.close();
    const last = p.snapshot();
    expect(last.totals).toEqual(result.totals);
    expect(last.services.map(({ liveFlows, ...rest }) => (expect(liveFlows).toBe(0), rest))).toEqual(result.services);
    expect(result.totals).toEqual(inProcess.result.totals);
  });
});

describe('detail lists of a replay shorter than one snapshot interval', () => {
  it.each([0, 1])('with %i workers the final snapshot still lists the ended flows, alerts and unknown ports', async (workers) => {
    // A max-speed replay of the demo ends long before the first periodic snapshot (1 minute here).
    const p = createPipeline(options(workers, { idleTimeout: 5, snapshotIntervalMs: 60_000, detail: true }));
    p.onSnapshot(() => {});
    await p.runFile(DEMO_CAPTURE);
    await p.finish();
    const d = p.snapshot().detail!;
    await p.close();
    expect(d.flows.filter((f) => !f.live).length).toBeGreaterThan(10);
    expect(new Set(d.alerts.map((a) => a.kind))).toEqual(new Set(['mismatch', 'exposure-violation']));
    expect(d.unknownPorts.map((u) => `${u.transport}/${u.port}`)).toEqual(expect.arrayContaining(['tcp/22', 'tcp/5432']));
  });
});

describe('snapshots of tunnelled flows with workers', () => {
  it('merge the workers\' live encapsulation counts and flow stacks; equal to the final totals', async () => {
    // Flows stay live until finish(): the snapshot taken after the last record counts them all as live.
    const p = createPipeline(options(2, { idleTimeout: 1e6, snapshotIntervalMs: 10, detail: true }));
    let latest: Snapshot | null = null;
    p.onSnapshot((s) => (latest = s));
    await p.runFile(DEMO_TUNNELS_CAPTURE);
    await vi.waitFor(() => expect(latest?.totals.packets).toBe(2305), { timeout: 30_000, interval: 5 });
    await new Promise((r) => setTimeout(r, 50));
    const running = p.snapshot();
    const result = await p.finish();
    await p.close();
    expect(running.services.every((s) => s.liveFlows === s.flows)).toBe(true);
    expect(running.services.map(({ liveFlows: _l, ...rest }) => rest)).toEqual(result.services);
    expect(running.services.filter((s) => s.encapsulations !== undefined).length).toBeGreaterThan(10);
    const tunnelled = running.detail!.flows.filter((f) => f.tunnel !== undefined);
    expect(tunnelled.length).toBeGreaterThan(0);
    expect(new Set(tunnelled.map((f) => f.tunnel![0]!.type))).toEqual(new Set(['vxlan', 'geneve', 'ip-in-ip']));
  }, 60_000);
});

describe('options', () => {
  it('--workers is validated and defaults to cores - 1, from 1 to 4', () => {
    expect(() => createPipeline(options(-1))).toThrow(/--workers must be between 0 and 32/);
    expect(defaultWorkers(1)).toBe(0);
    expect(defaultWorkers(2)).toBe(0);
    expect(defaultWorkers(3)).toBe(2);
    expect(defaultWorkers(16)).toBe(4);
  });
});
