/**
 * `--workers N`: N worker threads (worker.ts), each owning the flows of some host-pair buckets, fed
 * through a bounded pool of shared chunks by the reading thread (reader.ts), or record by record
 * through `sink` (live capture, paced replay). With one worker and a capture file the worker reads
 * the file itself (worker-file.ts) and this thread only relays. See docs/pipeline.md.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { CaptureReadResult } from '../capture/types.js';
import { ErrorCode, errorFromRecord, PortsniffError } from '../errors.js';
import { buildClassification } from './classification.js';
import { allocateChunk, ChunkView } from './chunks.js';
import { DEFAULT_CHUNK_BYTES, DEFAULT_POOL_CHUNKS, DEFAULT_SNAPSHOT_INTERVAL_MS, LIVE_FLUSH_MS } from './defaults.js';
import { FlowMerger } from './flow-merge.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import type { Pipeline, PipelineOptions, PipelinePressure, PipelineResult, PipelineSink, RunFileOptions } from './pipeline.js';
import { readIntoChunks, type ChunkHost } from './reader.js';
import type { ClassifiedFlow, FlowTally, Snapshot } from './results.js';
import { DEFAULT_TUNNEL_PORTS, pairBucketOf } from './shard.js';
import { udpTunnelPorts } from '../decode/decap-options.js';
import { mergeServices, mergeSnapshots, mergeTotals } from './snapshot.js';
import { SnapshotFeed } from './snapshot-feed.js';
import { mergePortStats, type PortStatsData } from './port-stats.js';
import { failureHookFromEnv } from './test-hooks.js';
import { keepIdle, takeWorker, workerScript, type WorkerScript } from './worker-threads.js';
import { isFifoPath } from '../util/fifo.js';
import { startPipeThread, type PipeThread } from '../capture/pipe-reader.js';
import { stdinPipeOf } from '../capture/capture-stream.js';
import type { Worker } from 'node:worker_threads';

type ReadAnswer = Extract<FromWorker, { t: 'read' }>;

interface WorkerState {
  worker: Worker;
  /** The last statistics it posted (its final ones after 'final'). */
  last: Snapshot | null;
  /** Its port accounting, sent with 'final' (or 'error'). */
  ports: PortStatsData | null;
  final: boolean;
  /** Records its fast path took (sent with 'final'). */
  fastRecords: number;
  /** Finished, failed or exited: nothing more will come from it. */
  done: boolean;
  /** Our listeners, removed when the thread goes back to the idle cache. */
  listeners: { message: (m: FromWorker) => void; error: (err: Error) => void; exit: (code: number) => void };
}

export class WorkerPipeline implements Pipeline, ChunkHost {
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
  private readonly jsonCallbacks: Array<(line: string) => void> = [];
  private readonly tallyCallbacks: Array<(tally: FlowTally) => void> = [];
  private readonly feed: SnapshotFeed;
  private engineDrops = 0;
  private readerWaits = 0;
  private maxInFlight = 0;
  private chunksPosted = 0;
  /** A file the only worker reads itself (readInWorker): where its answer and its progress go. */
  private fileRead: { answer: ReadAnswer | null; progress: { bytesRead: number } | undefined; stop: () => void } | null = null;
  private finishing: Promise<PipelineResult> | null = null;
  private closed = false;
  // Live feeding (sink): the chunk being filled.
  private liveChunk: ChunkView | null = null;
  private liveFilled = 0;
  private liveCount = 0;
  private liveTimer: NodeJS.Timeout | null = null;
  private readonly script: WorkerScript;
  /** UDP tunnel ports for the reading thread's sharding (shard.ts pairBucketOf). */
  readonly tunnelPorts: Uint8Array | null;
  /** With one worker nothing is sharded: the reader computes no buckets (worker.ts processChunk). */
  readonly shards: boolean;

  constructor(opts: PipelineOptions) {
    const n = opts.workers;
    this.tunnelPorts = opts.decap ? udpTunnelPorts(opts.decap) : DEFAULT_TUNNEL_PORTS;
    this.workers = n;
    this.shards = n > 1;
    this.chunkSize = Math.max(64 * 1024, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    const poolChunks = Math.max(2, Math.floor(opts.poolChunks ?? DEFAULT_POOL_CHUNKS));
    const intervalMs = opts.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
    // Workers count live flows into their statistics only when some subscriber wants them.
    const live = opts.liveServices !== false || opts.detail === true;
    this.feed = new SnapshotFeed(intervalMs, () => this.snapshot(), () => (live ? this.post({ t: 'snapshots', on: true }) : undefined), false);
    const controlBuffer = new SharedArrayBuffer(4 * poolChunks);
    this.control = new Int32Array(controlBuffer);
    this.held = new Uint8Array(poolChunks);
    for (let id = 0; id < poolChunks; id++) this.chunks.push(new ChunkView(id, allocateChunk(this.chunkSize)));
    this.merger = new FlowMerger(n, (f) => {
      if (typeof f === 'string') for (const cb of this.jsonCallbacks) cb(f);
      else if (!('id' in f)) for (const cb of this.tallyCallbacks) cb(f);
      else for (const cb of this.flowCallbacks) cb(f);
    });
    // Compile once here too: a bad --products fails now, on this thread, not in every worker.
    buildClassification(opts.classification);
    const hook = opts.failureHook ?? failureHookFromEnv();
    const script = workerScript(opts.workerUrl);
    this.script = script;
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = {
        index: i,
        workers: n,
        // Each worker holds its share of the flows: the --max-flows bound is split between them.
        engine: {
          maxFlows: Math.max(16, Math.ceil(opts.maxFlows / n)), idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout,
          ...(opts.decap ? { decap: opts.decap } : {}),
        },
        classification: opts.classification,
        flows: opts.flows,
        ...(opts.flows && opts.flowsAsJson === true ? { flowsAsJson: true } : {}),
        ...(opts.largestRecords !== undefined ? { largestRecords: opts.largestRecords } : {}),
        ...(opts.tallies === true ? { tallies: true } : {}),
        statsIntervalMs: intervalMs,
        detail: opts.detail === true,
        control: controlBuffer,
        chunks: this.chunks.map((c) => c.buffers),
        ...(hook !== undefined ? { failureHook: hook } : {}),
      };
      const limits: ResourceLimits | undefined = hook?.kind === 'oom' && hook.worker === i ? { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } : undefined;
      const worker = takeWorker(script, limits);
      const state: WorkerState = {
        worker,
        last: null,
        ports: null,
        final: false,
        fastRecords: 0,
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
      case 'file-progress':
        if (this.fileRead?.progress !== undefined) this.fileRead.progress.bytesRead = m.bytesRead;
        this.merger.push(i, m.flows, m.keys, m.watermark);
        // Taken (the flows went to their consumers): the worker may read on.
        if (!state.done) state.worker.postMessage({ t: 'ack' } satisfies ToWorker);
        break;
      case 'flows':
        this.merger.push(i, m.flows, m.keys, 0);
        break;
      case 'read':
        if (this.fileRead !== null) this.fileRead.answer = m;
        this.wake();
        break;
      case 'stats':
        state.last = m.snapshot;
        break;
      case 'final':
        state.last = m.snapshot;
        state.ports = m.ports;
        state.fastRecords = m.fastRecords;
        state.final = true;
        state.done = true;
        this.merger.push(i, m.flows, m.keys, Infinity);
        this.merger.close(i);
        this.wake();
        break;
      case 'error':
        if (m.snapshot !== null) state.last = m.snapshot;
        if (m.ports !== null) state.ports = m.ports;
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
    this.chunksPosted++;
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
    // One worker: nothing to shard, so it reads the capture itself. A FIFO's or stdin's pipe is
    // drained by a pipe thread this thread starts (one started by a worker would inherit Node's
    // closing of that worker's descriptors at its exit, and close the pipe's descriptor a second
    // time: capture/pipe-reader.ts), and the worker reads its ring. Other stdin (a stream given,
    // a terminal, a file) stays here.
    if (this.workers === 1) {
      if (pathOrDash !== '-' && !isFifoPath(pathOrDash)) return this.readInWorker(pathOrDash, opts, null);
      const source = pathOrDash === '-' ? stdinPipeOf(opts.stdin) : { path: pathOrDash };
      if (source !== null) return this.readInWorker(pathOrDash, opts, startPipeThread(source));
    }
    const pause = opts.pause;
    const signal = opts.signal;
    return readIntoChunks(pathOrDash, this, { signal, stdin: opts.stdin, progress: opts.progress, gate: pause ? () => pause.hold(signal) : undefined });
  }

  /**
   * The only worker reads `path` into its engine, as the in-process pipeline does on its thread:
   * this thread reads and copies nothing; it relays flows, progress, pause and stop. The result and
   * the errors are readCaptureFile's (errors rebuilt with their class, code, offset and `partial`).
   */
  private async readInWorker(path: string, opts: RunFileOptions, pipe: PipeThread | null): Promise<CaptureReadResult> {
    if (this.failure !== null || this.fileRead !== null) pipe?.stop();
    if (this.failure !== null) throw this.workerError();
    if (this.fileRead !== null) throw new Error('runFile: a file is already being read');
    const state = this.states[0]!;
    const send = (m: ToWorker): void => {
      if (!state.done) state.worker.postMessage(m);
    };
    const read = { answer: null as ReadAnswer | null, progress: opts.progress, stop: () => send({ t: 'stop' }) };
    this.fileRead = read;
    const signal = opts.signal;
    const onAbort = (): void => read.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    const unhookPause = opts.pause?.onChange((on) => send({ t: 'pause', on }));
    try {
      const m: ToWorker = { t: 'file', path, base: this.nextOrdinal, paused: opts.pause?.paused === true, stopped: signal?.aborted === true };
      if (pipe === null) send(m);
      else if (!state.done) state.worker.postMessage({ ...m, pipe: pipe.ring }, [pipe.ring.port]);
      // A worker that dies answers nothing: its answer or its failure, whichever comes first.
      while (read.answer === null && this.failure === null) await this.waitForChange();
      const answer = read.answer;
      if (answer === null) throw this.workerError();
      this.nextOrdinal = answer.next;
      if (answer.error !== null) throw errorFromRecord(answer.error, answer.partial);
      return answer.result!;
    } finally {
      pipe?.stop();
      signal?.removeEventListener('abort', onAbort);
      unhookPause?.();
      this.fileRead = null;
    }
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
    c.put(this.liveCount++, at, capLen, origLen, tsSec, tsNsec, linkType, this.shards ? pairBucketOf(buf, offset, capLen, linkType, this.tunnelPorts) : 0);
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

  onFlowJson(cb: (line: string) => void): void {
    this.jsonCallbacks.push(cb);
  }

  onTally(cb: (tally: FlowTally) => void): void {
    this.tallyCallbacks.push(cb);
  }

  onFlow(cb: (flow: ClassifiedFlow) => void): void {
    this.flowCallbacks.push(cb);
  }

  onSnapshot(cb: (s: Snapshot) => void): void {
    this.feed.subscribe(cb);
  }

  pressure(): PipelinePressure {
    return { poolChunks: this.chunks.length, inFlight: this.inFlight(), maxInFlight: this.maxInFlight, readerWaits: this.readerWaits, chunksPosted: this.chunksPosted };
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
    // A file the worker still reads (finish() before runFile() settled): stop it, take its answer.
    const reading = this.fileRead;
    if (reading !== null) {
      reading.stop();
      while (reading.answer === null && this.failure === null) await this.waitForChange();
    }
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
      ports: mergePortStats(this.states.flatMap((s) => (s.ports === null ? [] : [s.ports]))),
      fastRecords: this.states.reduce((n, s) => n + s.fastRecords, 0),
    };
  }

  private stopTimers(): void {
    this.feed.stop();
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
