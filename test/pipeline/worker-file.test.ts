/**
 * `--workers 1` with a capture file: the worker reads the file itself (src/pipeline/worker-file.ts)
 * and the main thread reads nothing (no chunk is posted). Checked against the in-process engine:
 * output, progress, pause, stop (abort and finish() mid-file), a second file on the same pipeline,
 * the failure hooks while the worker reads, and the worker side's bound on unacknowledged progress.
 * No timed assertions: waits poll a state; "still held" is checked after giving the worker time.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CHUNK_SIZE } from '../../src/capture/file.js';
import { Pause } from '../../src/capture/pacer.js';
import type { CaptureReadResult } from '../../src/capture/types.js';
import { ErrorCode, PortsniffError } from '../../src/errors.js';
import { Engine } from '../../src/pipeline/engine.js';
import type { FromWorker } from '../../src/pipeline/messages.js';
import { closeIdleWorkers, createPipeline } from '../../src/pipeline/pipeline.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { FILE_PROGRESS_FLOWS, FileReading, MAX_PROGRESS_IN_FLIGHT } from '../../src/pipeline/worker-file.js';
import { comparable, options, releaser, runPipeline, type PipelineRun } from './helpers.js';
import { mixedCapture } from './mixed-capture.js';
import { replay, withoutWorkers } from './run.js';

let dir = '';
let mixedFile = '';
let mixedBytes = 0;
let mixedPackets = 0;
let inProcess: PipelineRun;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portsniff-worker-file-'));
  mixedFile = join(dir, 'mixed.pcap');
  const m = mixedCapture({ seed: 5, conversations: 8000 });
  mixedPackets = m.packets;
  writeFileSync(mixedFile, m.pcap);
  mixedBytes = statSync(mixedFile).size;
  // Several reads long, so that pause and stop can land in the middle.
  expect(mixedBytes).toBeGreaterThan(2 * DEFAULT_CHUNK_SIZE);
  inProcess = await runPipeline(mixedFile, options(0));
});

afterAll(async () => {
  await closeIdleWorkers();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Acknowledges every post as it arrives, as the main thread does, until the read has finished. */
async function ackUntilDone(reading: FileReading, posts: readonly FromWorker[], finished: () => boolean): Promise<void> {
  let acked = 0;
  while (!finished()) {
    while (acked < posts.length) {
      acked++;
      reading.ack();
    }
    await sleep(1);
  }
}

describe('one worker reads a capture file itself', () => {
  it('the main thread posts no chunk; output, result and progress equal the in-process engine', async () => {
    const progress = { bytesRead: 0 };
    const r = await runPipeline(mixedFile, options(1), { progress });
    expect(r.pipeline.pressure().chunksPosted).toBe(0);
    expect(comparable(r)).toEqual(comparable(inProcess));
    expect(r.read!.packets).toBe(mixedPackets);
    expect(progress.bytesRead).toBe(mixedBytes);
    // Standard input stays with the main thread's reader (the chunk path).
    const fromStdin = await runPipeline('-', options(1), { stdin: Readable.from([readFileSync(mixedFile)]) });
    expect(fromStdin.pipeline.pressure().chunksPosted).toBeGreaterThan(0);
    expect(fromStdin.flows).toEqual(inProcess.flows);
  });

  it('reads a gzip file itself, with the same output', async () => {
    const gz = join(dir, 'mixed.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(mixedFile)));
    const r = await runPipeline(gz, options(1));
    expect(r.pipeline.pressure().chunksPosted).toBe(0);
    expect(comparable(r)).toEqual(comparable(inProcess));
  });

  it('a second file on the same pipeline continues the record ordinals, as in-process', async () => {
    const both = async (workers: number): Promise<{ flows: string[]; totals: unknown; reads: CaptureReadResult[] }> => {
      const p = createPipeline(options(workers, { idleTimeout: 1e6 }));
      const flows: string[] = [];
      p.onFlow((f) => flows.push(JSON.stringify(f)));
      const reads = [await p.runFile(mixedFile), await p.runFile(mixedFile)];
      const result = await p.finish();
      await p.close();
      return { flows, totals: result.totals, reads };
    };
    const [a, b] = [await both(0), await both(1)];
    expect(b).toEqual(a);
    expect((a.totals as { packets: number }).packets).toBe(2 * mixedPackets);
  });

  it('pause holds the worker between two reads until resumed', async () => {
    const p = createPipeline(options(1));
    const flows: string[] = [];
    p.onFlow((f) => flows.push(JSON.stringify(f)));
    const pause = new Pause();
    pause.set(true);
    const progress = { bytesRead: 0 };
    let settled = false;
    const reading = p.runFile(mixedFile, { pause, progress }).finally(() => (settled = true));
    // The first read is done before the first hold (as in-process): its progress comes out.
    await vi.waitFor(() => expect(progress.bytesRead).toBeGreaterThan(0), { timeout: 30_000, interval: 5 });
    await sleep(300);
    expect(settled).toBe(false);
    expect(progress.bytesRead).toBeLessThanOrEqual(DEFAULT_CHUNK_SIZE);
    // Paused and resumed again while held: still held.
    pause.set(false);
    pause.set(true);
    await sleep(100);
    expect(progress.bytesRead).toBeLessThan(mixedBytes);
    pause.set(false);
    const read = await reading;
    const result = await p.finish();
    await p.close();
    expect(read).toEqual(inProcess.read);
    expect(flows).toEqual(inProcess.flows);
    expect(result.totals).toEqual(inProcess.result.totals);
  });

  it('an abort mid-file stops the worker: aborted result, every record read counted, every ended flow delivered', async () => {
    const p = createPipeline(options(1));
    const flows: ClassifiedFlow[] = [];
    p.onFlow((f) => flows.push(f));
    const pause = new Pause();
    pause.set(true);
    const stopper = new AbortController();
    const progress = { bytesRead: 0 };
    const reading = p.runFile(mixedFile, { pause, progress, signal: stopper.signal });
    await vi.waitFor(() => expect(progress.bytesRead).toBeGreaterThan(0), { timeout: 30_000, interval: 5 });
    stopper.abort();
    const read = await reading;
    const result = await p.finish();
    await p.close();
    expect(read.aborted).toBe(true);
    expect(read.packets).toBeGreaterThan(0);
    expect(read.packets).toBeLessThan(mixedPackets);
    expect(result.error).toBeNull();
    expect(result.totals.packets).toBe(read.packets);
    expect(flows.length).toBe(result.totals.flows);
    // Exactly what the in-process engine makes of the records read before the stop.
    const prefix = join(dir, 'prefix.pcap');
    writeFileSync(prefix, readFileSync(mixedFile).subarray(0, read.bytesRead));
    const same = await runPipeline(prefix, options(0));
    expect(same.read!.packets).toBe(read.packets);
    expect(flows.map((f) => JSON.stringify(f))).toEqual(same.flows);
    expect(result.totals).toEqual(same.result.totals);
  });

  it('a signal aborted before the start reads nothing, as in-process', async () => {
    const a = await runPipeline(mixedFile, options(0), { signal: AbortSignal.abort() });
    const b = await runPipeline(mixedFile, options(1), { signal: AbortSignal.abort() });
    expect(comparable(b)).toEqual(comparable(a));
    expect(b.read!.packets).toBe(0);
    expect(b.read!.aborted).toBe(true);
  });

  it('finish() while the worker still reads stops the read first, then ends every flow', async () => {
    const p = createPipeline(options(1));
    const flows: ClassifiedFlow[] = [];
    p.onFlow((f) => flows.push(f));
    const pause = new Pause();
    pause.set(true);
    const progress = { bytesRead: 0 };
    const reading = p.runFile(mixedFile, { pause, progress });
    await vi.waitFor(() => expect(progress.bytesRead).toBeGreaterThan(0), { timeout: 30_000, interval: 5 });
    const result = await p.finish();
    const read = await reading;
    await p.close();
    expect(read.aborted).toBe(true);
    expect(result.totals.packets).toBe(read.packets);
    expect(flows.length).toBe(result.totals.flows);
  });

  it.each(['throw', 'exit', 'oom'] as const)('a worker that dies while it reads (%s): PSN_ERR_WORKER, no hang', async (kind) => {
    const r = await runPipeline(mixedFile, options(1, { failureHook: { worker: 0, afterPackets: 300, kind } }));
    expect(r.pipeline.pressure().chunksPosted).toBe(0);
    expect(r.result.error?.code).toBe(ErrorCode.Worker);
    expect(r.result.error?.message).toMatch(/^worker 0 failed: /);
    if (kind === 'throw') expect(r.result.error?.message).toMatch(/test hook: worker 0 fails after \d+ packets/);
    if (kind === 'exit') expect(r.result.error?.message).toContain('exited unexpectedly with code 70');
    if (kind === 'oom') expect(r.result.error?.message).toMatch(/out of memory/);
    expect(r.readError).toBeInstanceOf(PortsniffError);
    expect((r.readError as PortsniffError).code).toBe(ErrorCode.Worker);
    // A thrown error is reported with what the engine had counted (at least the first read).
    if (kind === 'throw') expect(r.result.totals.packets).toBeGreaterThan(300);
  });

  it('a stalled worker holds the read (the main thread stays free); released, it completes', async () => {
    const stall = releaser();
    const p = createPipeline(options(1, { failureHook: { worker: 0, afterPackets: 0, kind: 'stall', release: stall.buffer } }));
    const flows: string[] = [];
    p.onFlow((f) => flows.push(JSON.stringify(f)));
    const progress = { bytesRead: 0 };
    let settled = false;
    const reading = p.runFile(mixedFile, { progress }).finally(() => (settled = true));
    // This thread's timers still run while the worker is stuck.
    await sleep(300);
    expect(settled).toBe(false);
    expect(progress.bytesRead).toBe(0);
    stall.release();
    const read = await reading;
    const result = await p.finish();
    await p.close();
    expect(read.packets).toBe(mixedPackets);
    expect(flows).toEqual(inProcess.flows);
    expect(result.totals).toEqual(inProcess.result.totals);
  });

  it('capture errors are those of the in-process reader: class, code, message, offset, partial', async () => {
    const bytes = readFileSync(mixedFile);
    const cases: Array<[string, Uint8Array]> = [];
    // An impossible record length after the first read.
    const bad = Buffer.from(bytes.subarray(0, 600_000));
    let at = 24;
    while (at < 400_000) at += 16 + bad.readUInt32LE(at + 8);
    bad.writeUInt32LE(0x7fffffff, at + 8);
    cases.push(['bad-length.pcap', bad]);
    cases.push(['truncated.pcap', bytes.subarray(0, 700_001)]);
    cases.push(['bad-magic.pcap', Buffer.from('not a capture at all, not even close')]);
    cases.push(['empty.pcap', new Uint8Array(0)]);
    const gz = gzipSync(bytes);
    cases.push(['short.pcap.gz', gz.subarray(0, Math.floor(gz.length / 2))]);
    const corrupt = Buffer.from(gz);
    for (let i = 2000; i < 2040; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    cases.push(['corrupt.pcap.gz', corrupt]);
    for (const [name, content] of cases) {
      const path = join(dir, name);
      writeFileSync(path, content);
      const a = await runPipeline(path, options(0));
      const b = await runPipeline(path, options(1));
      expect(b.pipeline.pressure().chunksPosted, name).toBe(0);
      expect(comparable(b), name).toEqual(comparable(a));
      const [ea, eb] = [a.readError as Record<string, unknown> | null, b.readError as Record<string, unknown> | null];
      expect(eb?.constructor, name).toBe(ea?.constructor);
      expect(eb === null ? null : { ...eb, message: eb['message'], name: eb['name'] }, name).toEqual(ea === null ? null : { ...ea, message: ea['message'], name: ea['name'] });
    }
    const missing = join(dir, 'no-such.pcap');
    const a = await runPipeline(missing, options(0));
    const b = await runPipeline(missing, options(1));
    expect((b.readError as PortsniffError).code).toBe(ErrorCode.Io);
    expect((b.readError as Error).message).toBe((a.readError as Error).message);
    expect(comparable(b)).toEqual(comparable(a));
  });

  it('`replay --workers 1` exits 1 with the failed worker on stderr and in the --json summary', async () => {
    process.env['PORTSNIFF_TEST_WORKER_FAILURE'] = '0:200:throw';
    try {
      const r = await replay(mixedFile, ['--workers', '1']);
      expect(r.code).toBe(1);
      expect(r.stderr.join('\n')).toMatch(/^portsniff: error: worker 0 failed: test hook: worker 0 fails after \d+ packets$/m);
      const s = JSON.parse(r.summaryText) as { source: { error: { code: string } }; totals: { packets: number } };
      expect(s.source.error.code).toBe('PSN_ERR_WORKER');
      expect(s.totals.packets).toBeGreaterThan(200);
    } finally {
      delete process.env['PORTSNIFF_TEST_WORKER_FAILURE'];
    }
    const [a, b] = [await replay(mixedFile, ['--workers', '0']), await replay(mixedFile, ['--workers', '1'])];
    expect(b.code).toBe(0);
    expect(withoutWorkers(b.summaryText)).toBe(withoutWorkers(a.summaryText));
    expect(b.flowsText).toBe(a.flowsText);
  });
});

describe('the worker side (FileReading)', () => {
  function reader(progressMs: number, maxFlows = 100_000): { reading: FileReading; posts: FromWorker[]; done: Promise<void> } {
    const state = { flows: [] as ClassifiedFlow[], keys: [] as number[] };
    const engine = new Engine({
      maxFlows,
      idleTimeout: 30,
      activeTimeout: 0,
      onFlow: (f, trigger, phase, last) => {
        state.flows.push(f);
        state.keys.push(trigger, phase, last);
      },
    });
    const posts: FromWorker[] = [];
    const reading = new FileReading(
      {
        engine,
        post: (m) => posts.push(m),
        takeFlows: () => {
          const out = { flows: state.flows, keys: state.keys };
          state.flows = [];
          state.keys = [];
          return out;
        },
        pendingFlows: () => state.flows.length,
        beforeRead: () => {},
        fail: (err) => {
          throw err;
        },
      },
      false,
      progressMs,
      // Many reads out of the file, so that the progress posts pile up.
      256 * 1024,
    );
    return { reading, posts, done: reading.run(mixedFile, 0) };
  }

  it(`holds after ${MAX_PROGRESS_IN_FLIGHT} progress posts the main thread has not taken, reads on when they are`, async () => {
    const { reading, posts, done } = reader(0);
    let finished = false;
    void done.then(() => (finished = true));
    await vi.waitFor(() => expect(posts.length).toBe(MAX_PROGRESS_IN_FLIGHT), { timeout: 30_000, interval: 5 });
    await sleep(200);
    expect(finished).toBe(false);
    expect(posts.length).toBe(MAX_PROGRESS_IN_FLIGHT);
    expect(posts.every((m) => m.t === 'file-progress')).toBe(true);
    // Take the posts as the main thread does: one 'ack' each.
    await ackUntilDone(reading, posts, () => finished);
    const last = posts.at(-1)!;
    expect(last.t).toBe('read');
    if (last.t !== 'read') return;
    expect(last.error).toBeNull();
    expect(last.result).toEqual(inProcess.read);
    expect(last.next).toBe(mixedPackets);
    const progress = posts.filter((m) => m.t === 'file-progress');
    expect(progress.at(-1)!.bytesRead).toBe(mixedBytes);
    // Between reads: every boundary posted (progressMs 0), bytes growing, watermarks growing.
    expect(progress.length).toBeGreaterThan(MAX_PROGRESS_IN_FLIGHT);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.watermark).toBeGreaterThanOrEqual(progress[i - 1]!.watermark);
  });

  it(`posts once ${FILE_PROGRESS_FLOWS} flows wait, however short the time since the last post`, async () => {
    // A small table: flows end by eviction all through the read, as on a flood.
    const { reading, posts, done } = reader(1e9, 64);
    let finished = false;
    void done.then(() => (finished = true));
    await ackUntilDone(reading, posts, () => finished);
    const progress = posts.filter((m) => m.t === 'file-progress');
    const sizes = progress.map((m) => m.flows?.length ?? 0);
    // Only the last post (after the read) comes regardless of flows; the timer never fires here.
    const between = sizes.slice(0, -1);
    expect(between.length).toBeGreaterThan(2);
    for (const n of between) expect(n).toBeGreaterThanOrEqual(FILE_PROGRESS_FLOWS);
  });

  it('stop while held by unacknowledged posts ends the read at once, aborted', async () => {
    const { reading, posts, done } = reader(0);
    await vi.waitFor(() => expect(posts.length).toBe(MAX_PROGRESS_IN_FLIGHT), { timeout: 30_000, interval: 5 });
    reading.stop();
    await done;
    const last = posts.at(-1)!;
    expect(last.t === 'read' && last.result?.aborted).toBe(true);
  });
});
