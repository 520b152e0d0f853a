/**
 * One interface over both ways to run the engine:
 *  - workers 0: the in-process Engine (in-process.ts; unit tests, 2-core machines);
 *  - workers N >= 1: N worker threads (worker-pipeline.ts, worker.ts), each owning the flows of some
 *    host-pair buckets, fed through a bounded pool of shared chunks by the reading thread (reader.ts).
 * Output is byte-identical whatever N (see docs/pipeline.md): flows are merged by end key
 * (flow-merge.ts), totals and per-service stats are sums (snapshot.ts).
 *
 * Feeding: runFile() reads a capture file or '-' (stdin) itself (zero-copy for regular files; with
 * one worker, that worker reads a file itself);
 * `sink` takes records pushed one by one (live capture, paced replay) and never blocks: when every
 * chunk is in use a record is dropped and counted as an engine drop instead of growing memory.
 */
import type { DecapOptions } from '../decode/decap-options.js';
import type { PortStatsData } from './port-stats.js';
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import type { Pause } from '../capture/pacer.js';
import { ErrorCode, PortsniffError } from '../errors.js';
import type { ClassificationSpec } from './classification.js';
import { MAX_WORKERS } from './defaults.js';
import { InProcessPipeline } from './in-process.js';
import type { WorkerFailureHook } from './messages.js';
import type { ClassifiedFlow, EngineTotals, FlowTally, ServiceTotals, Snapshot } from './results.js';
import { WorkerPipeline } from './worker-pipeline.js';

export { DEFAULT_CHUNK_BYTES, DEFAULT_POOL_CHUNKS, DEFAULT_SNAPSHOT_INTERVAL_MS, MAX_WORKERS, defaultWorkers } from './defaults.js';
export { closeIdleWorkers } from './worker-threads.js';

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
  /**
   * With flows: deliver each finished flow as its JSON text (onFlowJson) instead of its record
   * (onFlow), made where the engine runs. For a flow log that is the only reader of every record:
   * the text crosses from a worker as one string instead of a record of ~60 values cloned field by
   * field, and the JSON is made by the workers instead of the reading thread. With largestRecords
   * too, the flows the text summary's lists want also reach onFlow as records (after their line).
   */
  flowsAsJson?: boolean;
  /**
   * With flows: records only for the N largest flows and the first N exposure violations, all the
   * text summary lists (largest-flows.ts). Unset: every flow.
   */
  largestRecords?: number;
  /**
   * Every finished flow's tally (onTally): its transport, counts and verdict, for counters per
   * service (metrics), without the record `flows` would build. Independent of `flows`.
   */
  tallies?: boolean;
  /** Snapshots carry the dashboard's detail lists (top flows, alerts, unknown ports). */
  detail?: boolean;
  /**
   * Snapshots count live flows into the per-service figures (default true). False: snapshots carry
   * the totals and the services of ended flows only, and the engine keeps no live-flow view (the
   * progress line needs nothing more).
   */
  liveServices?: boolean;
  /**
   * In-process: take the common packet of a known flow through the WebAssembly fast path
   * (fast-path.ts). Outputs are the same without it; default true (tests compare the two).
   */
  fastPath?: boolean;
  chunkBytes?: number;
  poolChunks?: number;
  snapshotIntervalMs?: number;
  /** The worker script (default: worker.js next to this module; worker.ts via tsx from sources). */
  workerUrl?: URL;
  /** Tests only: make a worker fail (also read from PORTSNIFF_TEST_WORKER_FAILURE=worker:packets:kind). */
  failureHook?: WorkerFailureHook;
  /** Which encapsulations to open (`--decap`, `--vxlan-port`); default: all. */
  decap?: DecapOptions;
}

export interface PipelineResult {
  totals: EngineTotals;
  services: ServiceTotals[];
  workers: number;
  /** Records offered to `sink` that could not be taken (every chunk busy). */
  engineDrops: number;
  /** A worker failed (PSN_ERR_WORKER): the totals cover what was counted until then. */
  error: { code: string; message: string } | null;
  /** Documented ports seen and unknown server ports (port-stats.ts), for the coverage report. */
  ports: PortStatsData;
  /**
   * Records the engines' WebAssembly fast path took (fast-path.ts), over all workers: how much of
   * the capture skipped the TypeScript packet path (tests, benchmarks; in no output).
   */
  fastRecords: number;
}

export interface RunFileOptions {
  signal?: AbortSignal;
  /** Stream read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Updated while reading: bytes of the capture consumed so far (progress, ETA). */
  progress?: { bytesRead: number };
  /**
   * Holds reading between chunks while paused. A switch rather than a function to await, because
   * with one worker the worker reads the file itself and learns of a pause by message.
   */
  pause?: Pause;
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
  /** Chunks handed to the workers so far (0 while the only worker reads a file itself). */
  chunksPosted: number;
}

export interface Pipeline {
  readonly workers: number;
  /** Push records here (live capture); never blocks. */
  readonly sink: PipelineSink;
  /** True when `sink` can take a record now without dropping it. */
  tryAcquire(): boolean;
  /**
   * Reads a capture file, or '-' for stdin, into the pipeline; waits for slow workers (bounded
   * memory). Resolves with `aborted: true` when `signal` fires; throws readCaptureFile's errors.
   */
  runFile(pathOrDash: string, opts?: RunFileOptions): Promise<CaptureReadResult>;
  /** Finished flows, in end-key order (only with `flows: true`, without `flowsAsJson`). */
  onFlow(cb: (flow: ClassifiedFlow) => void): void;
  /** Finished flows as JSON.stringify(record), in end-key order (only with `flows` and `flowsAsJson`). */
  onFlowJson(cb: (line: string) => void): void;
  /** Every finished flow's tally, in end-key order (only with `tallies`); read it during the call. */
  onTally(cb: (tally: FlowTally) => void): void;
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
