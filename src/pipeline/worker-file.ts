/**
 * The only worker reads the capture file itself (`--workers 1`, a file): readCaptureFile into its
 * engine on its own thread, the in-process pipeline's loop, instead of the main thread reading into
 * shared chunks and handing them over. Between two reads it posts the flows ended so far and the
 * bytes consumed (every FILE_PROGRESS_MS, or sooner once FILE_PROGRESS_FLOWS flows wait), then holds
 * while paused or while the main thread has not taken MAX_PROGRESS_IN_FLIGHT of those posts yet (a
 * main thread slow to write flow records holds the reading instead of queueing records without
 * bound). See docs/pipeline.md "One worker reads the file itself".
 */
import { DEFAULT_CHUNK_SIZE, readCaptureFile } from '../capture/file.js';
import type { PipeRing } from '../capture/pipe-reader.js';
import { PortsniffError, toErrorRecord, type CaptureFormatError } from '../errors.js';
import type { Engine } from './engine.js';
import type { FromWorker } from './messages.js';
import type { EndedFlow } from './results.js';

/** Most often the worker posts progress while reading (flows and bytes for the main thread). */
export const FILE_PROGRESS_MS = 50;
/**
 * Flows ended that make the worker post progress before FILE_PROGRESS_MS: a flood ends tens of
 * thousands of flows in 50 ms, and what is in flight is bounded by posts, so by flows per post.
 */
export const FILE_PROGRESS_FLOWS = 1024;
/** Progress posts the main thread may have pending before the worker holds its reading. */
export const MAX_PROGRESS_IN_FLIGHT = 4;

export interface FileReadHost {
  readonly engine: Engine;
  post(m: FromWorker): void;
  /** The flows ended since the last call, with their end keys. */
  takeFlows(): { flows: EndedFlow[] | null; keys: number[] | null };
  /** Flows ended and not taken yet. */
  pendingFlows(): number;
  /** Called before every read (the tests' failure hooks). */
  beforeRead(): void;
  /** The read failed for another reason than the capture itself: the worker fails. */
  fail(err: unknown): void;
}

export class FileReading {
  private readonly stopper = new AbortController();
  private paused: boolean;
  /** 'file-progress' posts not yet acknowledged by the main thread. */
  private unacked = 0;
  private wake: (() => void) | null = null;
  private lastPost = 0;

  /**
   * `paused`: the state when reading starts; `progressMs`: FILE_PROGRESS_MS (tests: 0, every read);
   * `chunkSize`: the read size (tests: smaller, for more reads out of a small file).
   */
  constructor(
    private readonly host: FileReadHost,
    paused: boolean,
    private readonly progressMs: number = FILE_PROGRESS_MS,
    private readonly chunkSize: number = DEFAULT_CHUNK_SIZE,
  ) {
    this.paused = paused;
  }

  /** Reads `path` (from `pipe` when given), numbering records from `base`; ends with 'read' (or a worker failure). */
  async run(path: string, base: number, pipe?: PipeRing): Promise<void> {
    const engine = this.host.engine;
    engine.nextOrdinal = base;
    const progress = { bytesRead: 0 };
    let answer: FromWorker;
    try {
      this.host.beforeRead();
      const result = await readCaptureFile(path, engine, {
        signal: this.stopper.signal,
        chunkSize: this.chunkSize,
        progress,
        gate: () => this.betweenReads(progress.bytesRead),
        pipe,
      });
      answer = { t: 'read', result, error: null, partial: null, next: engine.nextOrdinal };
    } catch (err) {
      // A broken or unreadable capture is the answer to 'file'; anything else is this worker failing.
      if (!(err instanceof PortsniffError)) {
        this.host.fail(err);
        return;
      }
      answer = { t: 'read', result: null, error: toErrorRecord(err), partial: (err as CaptureFormatError).partial ?? null, next: engine.nextOrdinal };
    }
    this.postProgress(progress.bytesRead);
    this.host.post(answer);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.release();
  }

  stop(): void {
    this.stopper.abort();
    this.release();
  }

  ack(): void {
    this.unacked--;
    this.release();
  }

  private release(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async betweenReads(bytesRead: number): Promise<void> {
    this.host.beforeRead();
    if (this.host.pendingFlows() >= FILE_PROGRESS_FLOWS || performance.now() - this.lastPost >= this.progressMs) this.postProgress(bytesRead);
    while ((this.paused || this.unacked >= MAX_PROGRESS_IN_FLIGHT) && !this.stopper.signal.aborted) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private postProgress(bytesRead: number): void {
    this.lastPost = performance.now();
    this.unacked++;
    this.host.post({ t: 'file-progress', bytesRead, watermark: this.host.engine.nextOrdinal, ...this.host.takeFlows() });
  }
}
