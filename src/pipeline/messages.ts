/**
 * What the main thread and the workers say to each other. Plain data only (structured clone): no
 * class instances, errors travel as ErrorRecord. Records themselves never travel in messages; they
 * stay in the shared chunks (chunks.ts) and a message names a chunk.
 */
import type { PipeRing } from '../capture/pipe-reader.js';
import type { CaptureReadResult } from '../capture/types.js';
import type { DecapOptions } from '../decode/decap-options.js';
import type { ErrorRecord } from '../errors.js';
import type { EndedFlow, Snapshot } from './results.js';
import type { ChunkBuffers } from './chunks.js';
import type { ClassificationSpec } from './classification.js';
import type { PortStatsData } from './port-stats.js';

/** How a worker is to misbehave, for tests of the failure and backpressure paths (never in production). */
export interface WorkerFailureHook {
  /** Which worker. */
  worker: number;
  /**
   * It acts before the first chunk that starts after it has processed this many records in full
   * (a chunk handed over, or one read of a file the worker reads itself).
   */
  afterPackets: number;
  /**
   * 'throw': an exception; 'exit': process.exit() in the worker; 'oom': allocates until out of
   * memory; 'stall': blocks (once) until `release[0]` becomes non-zero (Atomics.notify).
   */
  kind: 'throw' | 'exit' | 'oom' | 'stall';
  release?: SharedArrayBuffer;
}

export interface WorkerInit {
  /** This worker's number (0-based) and how many there are. */
  index: number;
  workers: number;
  engine: { maxFlows: number; idleTimeout: number; activeTimeout: number; decap?: DecapOptions };
  /** The loaded rules and product filter; the worker compiles them itself. Null: no rules. */
  classification: ClassificationSpec | null;
  /** Whether finished flow records are wanted (else only statistics are kept). */
  flows: boolean;
  /** With flows: report each as its JSON text (PipelineOptions.flowsAsJson). */
  flowsAsJson?: boolean;
  /** With flows: records only for the N largest flows and the first N violations (PipelineOptions). */
  largestRecords?: number;
  /** Report every finished flow's tally too (PipelineOptions.tallies). */
  tallies?: boolean;
  /** Milliseconds between the statistics a worker posts. */
  statsIntervalMs: number;
  /** Statistics carry the dashboard's detail lists (top flows, alerts, unknown ports). */
  detail: boolean;
  control: SharedArrayBuffer;
  chunks: ChunkBuffers[];
  failureHook?: WorkerFailureHook;
}

export type ToWorker =
  /** Start a run (a fresh Engine). A worker runs one pipeline at a time and may be reused after 'final'. */
  | { t: 'init'; init: WorkerInit }
  /** Records [0, count) of chunk `id`, with capture ordinals base, base + 1, ... */
  | { t: 'chunk'; id: number; count: number; base: number }
  /** Chunk `id` now lives in new (larger or smaller) buffers. */
  | { t: 'buffers'; id: number; buffers: ChunkBuffers }
  /** Advance the flow clock with no packet (quiet live link). */
  | { t: 'tick'; sec: number }
  /** Include live flows in the statistics (someone subscribed to snapshots). */
  | { t: 'snapshots'; on: boolean }
  /**
   * One worker only: read this capture file itself into its engine, as the in-process pipeline does
   * (no chunks, no bytes crossing threads), numbering records from `base`; answered by 'read'.
   * `paused`, `stopped`: the state it starts in (then 'pause' and 'stop' change it). `pipe`: a
   * FIFO's or stdin's pipe, drained by a thread the main thread started (capture/pipe-reader.ts
   * says why there), read from its ring (its port transferred).
   */
  | { t: 'file'; path: string; base: number; paused: boolean; stopped: boolean; pipe?: PipeRing }
  /** Hold ('on') or resume reading the file at the next boundary between reads. */
  | { t: 'pause'; on: boolean }
  /** Stop reading the file (the 'read' answer then says aborted). */
  | { t: 'stop' }
  /** The main thread has taken a 'file-progress' (its flows delivered): bounds what is in flight. */
  | { t: 'ack' }
  /** End of input: end every flow, report, then wait for the next 'init'. */
  | { t: 'end' };

export type FromWorker =
  /**
   * Chunk `id` is done. Every flow the worker ends at an ordinal below `watermark` has been reported
   * (in `flows`, with their end keys as (trigger, phase, last) triples in `keys`).
   */
  | { t: 'progress'; id: number; watermark: number; flows: EndedFlow[] | null; keys: number[] | null }
  /**
   * Reading a file itself ('file'): flows ended so far (as 'progress') and the bytes of the capture
   * consumed; answered by 'ack'.
   */
  | { t: 'file-progress'; bytesRead: number; watermark: number; flows: EndedFlow[] | null; keys: number[] | null }
  /**
   * After 'file' (following its last 'file-progress'): what was read, or the capture error that
   * stopped it with what was read before (`partial`, for a CaptureFormatError); `next` is the ordinal
   * of the next record.
   */
  | { t: 'read'; result: CaptureReadResult | null; error: ErrorRecord | null; partial: CaptureReadResult | null; next: number }
  /** Periodic statistics (wall clock). */
  | { t: 'stats'; snapshot: Snapshot }
  /**
   * After 'end', before 'final': flows the end of input ended so far (the live flows of a large
   * table, in batches instead of one 'final'), with their end keys; the watermark does not move.
   */
  | { t: 'flows'; flows: EndedFlow[] | null; keys: number[] | null }
  /** After 'end': the last flows and the final statistics. */
  | { t: 'final'; snapshot: Snapshot; flows: EndedFlow[] | null; keys: number[] | null; ports: PortStatsData; fastRecords: number }
  /** The worker failed; `snapshot` is what it had counted (null if it could not tell). */
  | { t: 'error'; error: ErrorRecord; snapshot: Snapshot | null; ports: PortStatsData | null };
