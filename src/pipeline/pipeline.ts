/**
 * One interface over both ways to run the engine:
 *  - workers 0: the in-process Engine (unit tests, tiny inputs);
 *  - workers N >= 1: N worker threads (worker.ts), each owning the flows of some host-pair buckets,
 *    fed through a bounded pool of shared chunks by the reading thread (reader.ts).
 * Output is byte-identical whatever N (see docs/pipeline.md): flows are merged by end key
 * (flow-merge.ts), totals and per-service stats are sums (snapshot.ts).
 *
 * Feeding: runFile() reads a capture file or '-' (stdin) itself (zero-copy for regular files);
 * `sink` takes records pushed one by one (live capture) and never blocks: when every chunk is in
 * use a record is dropped and counted as an engine drop instead of growing memory.
 */
import { availableParallelism } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { readCaptureFile } from '../capture/file.js';
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import { ErrorCode, PortsniffError } from '../errors.js';
import { Engine, type ClassifiedFlow, type EngineTotals } from './engine.js';
import { buildClassification, type ClassificationSpec } from './classification.js';
import { allocateChunk, ChunkView } from './chunks.js';
import { FlowMerger } from './flow-merge.js';
import type { FromWorker, ToWorker, WorkerFailureHook, WorkerInit } from './messages.js';
import { readIntoChunks, type ChunkHost } from './reader.js';
import { pairBucketOf } from './shard.js';
import type { ServiceTotals } from './service-stats.js';
import { mergeServices, mergeSnapshots, mergeTotals, type Snapshot } from './snapshot.js';

/** Most worker threads accepted (more than the host-pair buckets would leave some idle). */
export const MAX_WORKERS = 32;
/**
 * 16 chunks of 256 KiB (4 MiB in flight). Against 8 x 1 MiB on the 5M-packet reference capture with
 * `--workers 2`, 12 interleaved runs: medians 2.00-2.24 s against 2.13-2.28 s wall and 7% less CPU
 * (3.52-3.90 s against 3.78-4.20 s): a smaller chunk and its worker-local copy leave more of each
 * core's 1 MiB L2 to the flow table.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_POOL_CHUNKS = 16;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 250;
/** A partly filled live chunk goes to the workers after at most this long. */
const LIVE_FLUSH_MS = 20;

/**
 * Default --workers for a machine with `cores` cores: in-process on 2 cores or fewer, else
 * cores - 1 (one core left for the reading thread), at most 4. Measured on the 2-core reference
 * machine (docs/pipeline.md, bench/README.md): even one worker was slower than in-process there.
 */
export function defaultWorkers(cores: number = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(4, cores - 1);
}

export interface PipelineOptions {
  /** 0 = in-process engine; N = N worker threads. */
  workers: number;
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  /** Rules to classify with (plain data: each worker compiles them); null = no classification. */
  classification: ClassificationSpec | null;
  /** Whether finished flow records are wanted (onFlow); without, only statistics are kept. */
  flows: boolean;
  chunkBytes?: number;
  poolChunks?: number;
  snapshotIntervalMs?: number;
  /** The worker script (default: worker.js next to this module; worker.ts via tsx from sources). */
  workerUrl?: URL;
  /** Tests only: make a worker fail (also read from PORTSNIFF_TEST_WORKER_FAILURE=worker:packets:kind). */
  failureHook?: WorkerFailureHook;
}

export interface PipelineResult {
  totals: EngineTotals;
  services: ServiceTotals[];
  workers: number;
  /** Records offered to `sink` that could not be taken (every chunk busy). */
  engineDrops: number;
  /** A worker failed (PSN_ERR_WORKER): the totals cover what was counted until then. */
  error: { code: string; message: string } | null;
}

export interface RunFileOptions {
  signal?: AbortSignal;
  /** Stream read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

export type PipelineSink = FrameSink & { tick(nowSec: number): void };

export interface PipelinePressure {
  /** Chunks in the pool (the bound on memory in flight). */
  poolChunks: number;
  /** Chunks handed to the workers and not yet released by all of them, now and at most so far. */
  inFlight: number;
  maxInFlight: number;
  /** Times the reading thread had to wait for a free chunk (slow workers). */
  readerWaits: number;
}

export interface Pipeline {
  readonly workers: number;
  /** Push records here (live capture); never blocks. */
  readonly sink: PipelineSink;
  /** True when `sink` can take a record now without dropping it. */
  tryAcquire(): boolean;
  /** Reads a capture file, or '-' for stdin, into the pipeline; waits for slow workers (bounded memory). */
  runFile(pathOrDash: string, opts?: RunFileOptions): Promise<CaptureReadResult>;
  /** Finished flows, in end-key order (only with `flows: true`). */
  onFlow(cb: (flow: ClassifiedFlow) => void): void;
  /** Merged snapshots, every snapshotIntervalMs of wall-clock time while subscribed. */
  onSnapshot(cb: (snapshot: Snapshot) => void): void;
  /** The latest merged snapshot. */
  snapshot(): Snapshot;
  /** Backpressure gauges (all 0 in-process). */
  pressure(): PipelinePressure;
  /** End of input: ends every flow and returns the totals (never rejects for a worker failure). */
  finish(): Promise<PipelineResult>;
  /** Stops everything (workers terminated); safe to call more than once. */
  close(): Promise<void>;
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > MAX_WORKERS) {
    throw new PortsniffError(ErrorCode.Usage, `--workers must be between 0 and ${MAX_WORKERS}, got ${opts.workers}`);
  }
  return opts.workers === 0 ? new InProcessPipeline(opts) : new WorkerPipeline(opts);
}

// ---------------------------------------------------------------------------------------------
// In-process

class InProcessPipeline implements Pipeline {
  readonly workers = 0;
  readonly sink: PipelineSink;
  private readonly engine: Engine;
  private readonly flowCallbacks: Array<(flow: ClassifiedFlow) => void> = [];
  private readonly snapshotCallbacks: Array<(s: Snapshot) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;

  constructor(opts: PipelineOptions) {
    const classification = buildClassification(opts.classification);
    this.engine = new Engine({
      maxFlows: opts.maxFlows,
      idleTimeout: opts.idleTimeout,
      activeTimeout: opts.activeTimeout,
      classifier: classification.makeClassifier(opts.maxFlows),
      documentedPorts: classification.documentedPorts,
      ...(opts.flows ? { onFlow: (f: ClassifiedFlow) => this.emit(f) } : {}),
    });
    this.sink = this.engine;
    this.intervalMs = opts.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  }

  private emit(f: ClassifiedFlow): void {
    for (const cb of this.flowCallbacks) cb(f);
  }

  tryAcquire(): boolean {
    return true;
  }

  runFile(pathOrDash: string, opts: RunFileOptions = {}): Promise<CaptureReadResult> {
    return readCaptureFile(pathOrDash, this.engine, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.stdin ? { stdin: opts.stdin } : {}) });
  }

  onFlow(cb: (flow: ClassifiedFlow) => void): void {
    this.flowCallbacks.push(cb);
  }

  onSnapshot(cb: (s: Snapshot) => void): void {
    this.snapshotCallbacks.push(cb);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        const s = this.snapshot();
        for (const c of this.snapshotCallbacks) c(s);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  snapshot(): Snapshot {
    return this.engine.snapshot(true);
  }

  pressure(): PipelinePressure {
    return { poolChunks: 0, inFlight: 0, maxInFlight: 0, readerWaits: 0 };
  }

  finish(): Promise<PipelineResult> {
    this.engine.finish();
    this.stopTimer();
    return Promise.resolve({
      totals: this.engine.totals(),
      services: this.engine.services.list(),
      workers: 0,
      engineDrops: 0,
      error: null,
    });
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  close(): Promise<void> {
    this.stopTimer();
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------------
// Worker threads

interface WorkerState {
  worker: Worker;
  /** The last statistics it posted (its final ones after 'final'). */
  last: Snapshot | null;
  final: boolean;
  /** Finished, failed or exited: nothing more will come from it. */
  done: boolean;
  /** Our listeners, removed when the thread goes back to the idle cache. */
  listeners: { message: (m: FromWorker) => void; error: (err: Error) => void; exit: (code: number) => void };
}

interface WorkerScript {
  url: URL;
  /** For the development bootstrap: the .ts module it imports. */
  entry: string | null;
}

function workerScript(opts: PipelineOptions): WorkerScript {
  if (opts.workerUrl !== undefined) return { url: opts.workerUrl, entry: null };
  if (import.meta.url.endsWith('.ts')) {
    // Running from sources (tsx, vitest): Node cannot start a .ts worker by itself.
    return { url: new URL('./worker-bootstrap.mjs', import.meta.url), entry: new URL('./worker.ts', import.meta.url).href };
  }
  return { url: new URL('./worker.js', import.meta.url), entry: null };
}

/**
 * Threads of pipelines that finished cleanly, kept (unref'd: they never keep the process alive) for
 * the next pipeline of the same process. A CLI run has one pipeline and never reuses them; tests
 * run hundreds and would otherwise start a thread (~100 ms) for each worker of each.
 */
const idleWorkers = new Map<string, Worker[]>();
const MAX_IDLE_WORKERS = 8;

function takeWorker(script: WorkerScript, limits: ResourceLimits | undefined): Worker {
  if (limits === undefined) {
    const w = idleWorkers.get(script.url.href)?.pop();
    if (w !== undefined) {
      w.removeAllListeners('exit');
      w.ref();
      return w;
    }
  }
  return new Worker(script.url, {
    workerData: script.entry !== null ? { entry: script.entry } : {},
    ...(limits !== undefined ? { resourceLimits: limits } : {}),
  });
}

function keepIdle(script: WorkerScript, w: Worker): void {
  const list = idleWorkers.get(script.url.href) ?? [];
  if (list.length >= MAX_IDLE_WORKERS) {
    void w.terminate();
    return;
  }
  w.unref();
  // A thread that dies while idle is forgotten.
  w.once('exit', () => {
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
  });
  list.push(w);
  idleWorkers.set(script.url.href, list);
}

/** Ends the idle threads kept for reuse (tests; a CLI process simply exits). */
export async function closeIdleWorkers(): Promise<void> {
  const all = [...idleWorkers.values()].flat();
  idleWorkers.clear();
  await Promise.all(all.map((w) => w.terminate()));
}

/** PORTSNIFF_TEST_WORKER_FAILURE=worker:packets:kind (tests of the failure path only). */
function failureHookFromEnv(): WorkerFailureHook | undefined {
  const v = process.env['PORTSNIFF_TEST_WORKER_FAILURE'];
  if (v === undefined || v === '') return undefined;
  const [w, n, kind] = v.split(':');
  if (kind !== 'throw' && kind !== 'exit' && kind !== 'oom') return undefined; // 'stall' needs a SharedArrayBuffer
  return { worker: Number(w), afterPackets: Number(n), kind };
}

class WorkerPipeline implements Pipeline, ChunkHost {
  readonly workers: number;
  readonly sink: PipelineSink;
  readonly chunkSize: number;
  private readonly states: WorkerState[] = [];
  private readonly chunks: ChunkView[] = [];
  /** 1 while the reading thread holds a chunk (acquired, not yet handed over). */
  private readonly held: Uint8Array;
  private readonly control: Int32Array;
  private nextOrdinal = 0;
  private waiters: Array<() => void> = [];
  private failure: { code: string; message: string } | null = null;
  private readonly merger: FlowMerger;
  private readonly flowCallbacks: Array<(flow: ClassifiedFlow) => void> = [];
  private readonly snapshotCallbacks: Array<(s: Snapshot) => void> = [];
  private snapshotTimer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  private engineDrops = 0;
  private readerWaits = 0;
  private maxInFlight = 0;
  private finishing: Promise<PipelineResult> | null = null;
  private closed = false;
  // Live feeding (sink): the chunk being filled.
  private liveChunk: ChunkView | null = null;
  private liveFilled = 0;
  private liveCount = 0;
  private liveTimer: NodeJS.Timeout | null = null;
  private readonly script: WorkerScript;

  constructor(opts: PipelineOptions) {
    const n = opts.workers;
    this.workers = n;
    this.chunkSize = Math.max(64 * 1024, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    const poolChunks = Math.max(2, Math.floor(opts.poolChunks ?? DEFAULT_POOL_CHUNKS));
    this.intervalMs = opts.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
    const controlBuffer = new SharedArrayBuffer(4 * poolChunks);
    this.control = new Int32Array(controlBuffer);
    this.held = new Uint8Array(poolChunks);
    for (let id = 0; id < poolChunks; id++) this.chunks.push(new ChunkView(id, allocateChunk(this.chunkSize)));
    this.merger = new FlowMerger(n, (f) => {
      for (const cb of this.flowCallbacks) cb(f);
    });
    // Compile once here too: a bad --products fails now, on this thread, not in every worker.
    buildClassification(opts.classification);
    const hook = opts.failureHook ?? failureHookFromEnv();
    const script = workerScript(opts);
    this.script = script;
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = {
        index: i,
        workers: n,
        // Each worker holds its share of the flows: the --max-flows bound is split between them.
        engine: { maxFlows: Math.max(16, Math.ceil(opts.maxFlows / n)), idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout },
        classification: opts.classification,
        flows: opts.flows,
        statsIntervalMs: this.intervalMs,
        control: controlBuffer,
        chunks: this.chunks.map((c) => c.buffers),
        ...(hook !== undefined ? { failureHook: hook } : {}),
      };
      const limits: ResourceLimits | undefined = hook?.kind === 'oom' && hook.worker === i ? { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } : undefined;
      const worker = takeWorker(script, limits);
      const state: WorkerState = {
        worker,
        last: null,
        final: false,
        done: false,
        listeners: {
          message: (m: FromWorker) => this.onMessage(i, m),
          error: (err: Error & { code?: string }) => {
            const what = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of memory (${err.message})` : err.message;
            this.fail(i, what);
          },
          exit: (code: number) => {
            if (!state.final && !state.done) this.fail(i, `exited unexpectedly with code ${code}`);
            state.done = true;
            this.wake();
          },
        },
      };
      this.states.push(state);
      worker.on('message', state.listeners.message);
      worker.on('error', state.listeners.error);
      worker.on('exit', state.listeners.exit);
      worker.postMessage({ t: 'init', init } satisfies ToWorker);
    }
    this.sink = {
      frame: (buf, offset, capLen, origLen, tsSec, tsNsec, linkType) => this.liveFrame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType),
      tick: (nowSec) => {
        this.flushLive();
        this.post({ t: 'tick', sec: nowSec });
      },
    };
  }

  private post(m: ToWorker): void {
    for (const s of this.states) if (!s.done) s.worker.postMessage(m);
  }

  private onMessage(i: number, m: FromWorker): void {
    const state = this.states[i]!;
    switch (m.t) {
      case 'progress':
        this.merger.push(i, m.flows, m.keys, m.watermark);
        this.wake();
        break;
      case 'stats':
        state.last = m.snapshot;
        break;
      case 'final':
        state.last = m.snapshot;
        state.final = true;
        state.done = true;
        this.merger.push(i, m.flows, m.keys, Infinity);
        this.merger.close(i);
        this.wake();
        break;
      case 'error':
        if (m.snapshot !== null) state.last = m.snapshot;
        this.fail(i, m.error.message);
        break;
    }
  }

  private fail(i: number, message: string): void {
    const state = this.states[i]!;
    if (state.final) return;
    if (this.failure === null) this.failure = { code: ErrorCode.Worker, message: `worker ${i} failed: ${message}` };
    if (!state.done) {
      state.done = true;
      // Its flows so far stay in the merge; nothing more will come from it.
      this.merger.close(i);
      void state.worker.terminate();
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private waitForChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private workerError(): PortsniffError {
    return new PortsniffError(ErrorCode.Worker, this.failure!.message);
  }

  // ChunkHost (the reading thread)

  async acquire(minSize: number): Promise<ChunkView> {
    for (;;) {
      if (this.failure !== null) throw this.workerError();
      const id = this.freeChunk();
      if (id >= 0) {
        this.held[id] = 1;
        return this.sized(id, minSize);
      }
      this.readerWaits++;
      await this.waitForChange();
    }
  }

  private freeChunk(): number {
    for (let id = 0; id < this.chunks.length; id++) {
      if (this.held[id] === 0 && Atomics.load(this.control, id) === 0) return id;
    }
    return -1;
  }

  /** The chunk, re-allocated when too small for `minSize` (or still oversized from a huge record). */
  private sized(id: number, minSize: number): ChunkView {
    const c = this.chunks[id]!;
    const want = Math.max(minSize, this.chunkSize);
    if (c.size >= want && (c.size === this.chunkSize || minSize > this.chunkSize)) return c;
    const view = new ChunkView(id, allocateChunk(want));
    this.chunks[id] = view;
    this.post({ t: 'buffers', id, buffers: view.buffers });
    return view;
  }

  dispatch(chunk: ChunkView, count: number): void {
    const base = this.nextOrdinal;
    this.nextOrdinal += count;
    Atomics.store(this.control, chunk.id, this.workers);
    this.held[chunk.id] = 0;
    this.post({ t: 'chunk', id: chunk.id, count, base });
    const inFlight = this.inFlight();
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
  }

  release(chunk: ChunkView): void {
    this.held[chunk.id] = 0;
    this.wake();
  }

  /** Chunks handed over and not yet released by every worker. */
  private inFlight(): number {
    let n = 0;
    for (let id = 0; id < this.chunks.length; id++) if (Atomics.load(this.control, id) > 0) n++;
    return n;
  }

  runFile(pathOrDash: string, opts: RunFileOptions = {}): Promise<CaptureReadResult> {
    return readIntoChunks(pathOrDash, this, { signal: opts.signal, stdin: opts.stdin });
  }

  // Live feeding

  tryAcquire(): boolean {
    const c = this.liveChunk;
    if (c !== null && c.size - this.liveFilled >= 65536 && this.liveCount < c.capacity) return true;
    return this.freeChunk() >= 0;
  }

  private liveFrame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number): void {
    let c = this.liveChunk;
    if (c === null || c.size - this.liveFilled < capLen || this.liveCount >= c.capacity) {
      if (c !== null) this.flushLive();
      const id = this.failure === null && !this.closed ? this.freeChunk() : -1;
      if (id < 0 || capLen > this.chunkSize) {
        this.engineDrops++;
        return;
      }
      this.held[id] = 1;
      c = this.sized(id, this.chunkSize);
      this.liveChunk = c;
      this.liveFilled = 0;
      this.liveCount = 0;
    }
    const u8 = c.u8;
    const at = this.liveFilled;
    if (capLen <= 64) {
      for (let i = 0; i < capLen; i++) u8[at + i] = buf[offset + i]!;
    } else {
      u8.set(buf.subarray(offset, offset + capLen), at);
    }
    c.put(this.liveCount++, at, capLen, origLen, tsSec, tsNsec, linkType, pairBucketOf(buf, offset, capLen, linkType));
    this.liveFilled = at + capLen;
    if (this.liveTimer === null) {
      this.liveTimer = setTimeout(() => {
        this.liveTimer = null;
        this.flushLive();
      }, LIVE_FLUSH_MS);
      this.liveTimer.unref();
    }
  }

  private flushLive(): void {
    if (this.liveTimer !== null) clearTimeout(this.liveTimer);
    this.liveTimer = null;
    const c = this.liveChunk;
    if (c === null) return;
    this.liveChunk = null;
    if (this.liveCount > 0) this.dispatch(c, this.liveCount);
    else this.release(c);
  }

  // Results

  onFlow(cb: (flow: ClassifiedFlow) => void): void {
    this.flowCallbacks.push(cb);
  }

  onSnapshot(cb: (s: Snapshot) => void): void {
    this.snapshotCallbacks.push(cb);
    if (this.snapshotTimer === null) {
      this.post({ t: 'snapshots', on: true });
      this.snapshotTimer = setInterval(() => {
        const s = this.snapshot();
        for (const c of this.snapshotCallbacks) c(s);
      }, this.intervalMs);
      this.snapshotTimer.unref();
    }
  }

  pressure(): PipelinePressure {
    return { poolChunks: this.chunks.length, inFlight: this.inFlight(), maxInFlight: this.maxInFlight, readerWaits: this.readerWaits };
  }

  snapshot(): Snapshot {
    const parts: Snapshot[] = [];
    for (const s of this.states) if (s.last !== null) parts.push(s.last);
    return mergeSnapshots(parts, { workers: this.workers, engineDrops: this.engineDrops, inFlightChunks: this.inFlight() });
  }

  finish(): Promise<PipelineResult> {
    this.finishing ??= this.doFinish();
    return this.finishing;
  }

  private async doFinish(): Promise<PipelineResult> {
    this.flushLive();
    this.post({ t: 'end' });
    while (this.states.some((s) => !s.done)) await this.waitForChange();
    this.stopTimers();
    const parts: Snapshot[] = [];
    for (const s of this.states) if (s.last !== null) parts.push(s.last);
    return {
      totals: mergeTotals(parts.map((p) => p.totals)),
      services: mergeServices(parts.map((p) => p.services)),
      workers: this.workers,
      engineDrops: this.engineDrops,
      error: this.failure,
    };
  }

  private stopTimers(): void {
    if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
    this.snapshotTimer = null;
    if (this.liveTimer !== null) clearTimeout(this.liveTimer);
    this.liveTimer = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    const clean = this.failure === null && this.states.every((s) => s.final);
    for (const s of this.states) {
      s.worker.off('message', s.listeners.message);
      s.worker.off('error', s.listeners.error);
      s.worker.off('exit', s.listeners.exit);
    }
    // Threads that finished cleanly may serve the next pipeline; anything else is ended.
    if (clean) for (const s of this.states) keepIdle(this.script, s.worker);
    else await Promise.all(this.states.map((s) => s.worker.terminate()));
    for (const s of this.states) s.done = true;
    this.wake();
  }
}
