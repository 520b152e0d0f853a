/**
 * Replay pacing (`replay --speed 1x|10x|N`): a FrameSink in front of the engine that remembers the
 * capture time of the last record, and a gate the reader awaits between its (small) reads, which
 * sleeps until that record is due: wall start + (capture time - first capture time) / speed, not
 * counting time spent paused. Records of one read arrive together, so a record may be early by at
 * most one read's worth of capture time (reads are a few KiB when pacing). Time that steps back in
 * the capture never waits. Pause holds the gate until resumed; an abort releases it at once.
 */
import type { FrameSink } from './types.js';

/** Longest single sleep: keeps pause and abort responsive during long gaps in the capture. */
const MAX_SLEEP_MS = 100;

export class Pacer implements FrameSink {
  private firstCapture = NaN;
  private lastCapture = NaN;
  private wallStart = 0;
  private pausedSince: number | null = null;
  private pausedTotal = 0;
  private resume: (() => void) | null = null;

  /**
   * `speed`: capture seconds per wall second (1 = as recorded). `ready`: extra condition to wait
   * for before reading on (a worker pipeline with room for more records).
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly speed: number,
    private readonly now: () => number = () => performance.now(),
    private readonly ready: () => boolean = () => true,
  ) {
    if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  }

  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void {
    const t = tsSec + tsNsec / 1e9;
    if (Number.isNaN(this.firstCapture)) {
      this.firstCapture = t;
      this.wallStart = this.now();
    }
    this.lastCapture = t;
    this.sink.frame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType, interfaceId);
  }

  flushChunk(buf: Uint8Array, start: number, end: number): void {
    this.sink.flushChunk?.(buf, start, end);
  }

  get paused(): boolean {
    return this.pausedSince !== null;
  }

  setPaused(paused: boolean): void {
    if (paused && this.pausedSince === null) {
      this.pausedSince = this.now();
    } else if (!paused && this.pausedSince !== null) {
      this.pausedTotal += this.now() - this.pausedSince;
      this.pausedSince = null;
      this.resume?.();
    }
  }

  /** Wall time (ms, on `now`'s clock) at which the last record delivered is due. */
  dueAt(): number {
    if (Number.isNaN(this.firstCapture)) return -Infinity;
    return this.wallStart + this.pausedTotal + ((this.lastCapture - this.firstCapture) * 1000) / this.speed;
  }

  /** Awaited by the reader between reads: returns once the records delivered so far are due. */
  async gate(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      if (this.pausedSince !== null) {
        await this.sleep(MAX_SLEEP_MS, signal, true);
        continue;
      }
      const wait = this.dueAt() - this.now();
      if (wait <= 0 && this.ready()) return;
      await this.sleep(Math.min(MAX_SLEEP_MS, Math.max(1, wait)), signal, false);
    }
  }

  private sleep(ms: number, signal: AbortSignal | undefined, wakeOnResume: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.resume === done) this.resume = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      if (wakeOnResume) this.resume = done;
    });
  }
}

/** Parses `--speed`: max, 1x, 10x, 2.5x, or a bare number; returns null for max. */
export function parseSpeed(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'max') return null;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  if (m === null) throw new RangeError(`--speed must be max, 1x, 10x or a number like 2.5, got '${text}'`);
  const v = Number(m[1]);
  if (!(v > 0) || v > 1e6) throw new RangeError(`--speed must be greater than 0 and at most 1000000x, got '${text}'`);
  return v;
}
