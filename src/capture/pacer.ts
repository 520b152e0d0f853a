/**
 * Replay pacing (`replay --speed 1x|10x|N`): a FrameSink in front of the engine that remembers the
 * capture time of the last record, and a gate the reader awaits between its (small) reads, which
 * sleeps until that record is due: wall start + (capture time - first capture time) / speed, not
 * counting time spent paused. Records of one read arrive together, so a record may be early by at
 * most one read's worth of capture time (reads span ~5 ms of wall time at the replay's speed:
 * readBytes, 4 KiB to 256 KiB). Time that steps back in the capture never waits. Pause holds the
 * gate until resumed; an abort releases it at once.
 */
import type { FrameSink } from './types.js';

/** Longest single sleep: keeps pause and abort responsive during long gaps in the capture. */
const MAX_SLEEP_MS = 100;

/**
 * Wall time one read's records should span at the replay's speed: they arrive together, so a
 * record is early by at most about this. Reads of a fixed 4 KiB capped a replay at ~200k packets/s
 * (one read round trip each: `--speed 10x` of a 100k packets/s capture ran at 2x).
 */
const READ_WALL_MS = 5;
/** Read size bounds when pacing (the reader's buffers are PACED_MAX_READ_BYTES). */
export const PACED_MIN_READ_BYTES = 4096;
export const PACED_MAX_READ_BYTES = 256 * 1024;
/** Capture time a data-rate sample covers before the read size follows it. */
const RATE_SAMPLE_S = 0.05;
/** Bytes in front of each record's data in the file (a pcap record header), for the rate estimate. */
const RECORD_OVERHEAD = 16;

/**
 * A pause switch a reader awaits between reads: hold() returns at once while running, and while
 * paused returns when resumed (or aborted). The time spent paused is kept, for pacing.
 */
export class Pause {
  private since: number | null = null;
  private total = 0;
  private wake: (() => void) | null = null;
  private readonly listeners: Array<(paused: boolean) => void> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  get paused(): boolean {
    return this.since !== null;
  }

  /** Milliseconds spent paused so far (not counting a pause still going on). */
  get pausedMs(): number {
    return this.total;
  }

  set(paused: boolean): void {
    if (paused && this.since === null) {
      this.since = this.now();
    } else if (!paused && this.since !== null) {
      this.total += this.now() - this.since;
      this.since = null;
      this.wake?.();
    } else {
      return;
    }
    for (const l of this.listeners) l(paused);
  }

  /**
   * Calls `listener` on every change (for a reader on another thread, which cannot await hold());
   * returns the function that removes it.
   */
  onChange(listener: (paused: boolean) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async hold(signal?: AbortSignal): Promise<void> {
    while (this.since !== null && signal?.aborted !== true) await sleep(MAX_SLEEP_MS, signal, (w) => (this.wake = w));
  }
}

/** Sleeps `ms`, or less when `signal` aborts or the function given to `onWake` is called. */
function sleep(ms: number, signal: AbortSignal | undefined, onWake: (wake: (() => void) | null) => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      onWake(null);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    onWake(done);
  });
}

export class Pacer implements FrameSink {
  private firstCapture = NaN;
  private lastCapture = NaN;
  private wallStart = 0;
  private readonly pause: Pause;
  /** Record bytes delivered, and where the current data-rate sample began (bytes, capture time). */
  private bytes = 0;
  private sampleBytes = 0;
  private sampleCapture = NaN;
  private readSize = PACED_MIN_READ_BYTES;

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
    this.pause = new Pause(now);
  }

  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void {
    const t = tsSec + tsNsec / 1e9;
    if (Number.isNaN(this.firstCapture)) {
      this.firstCapture = t;
      this.wallStart = this.now();
    }
    this.lastCapture = t;
    this.bytes += capLen + RECORD_OVERHEAD;
    this.sink.frame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType, interfaceId);
  }

  /**
   * Bytes for the reader's next read: READ_WALL_MS of wall time at this speed and the capture's
   * recent data rate, within [PACED_MIN_READ_BYTES, PACED_MAX_READ_BYTES].
   */
  readBytes(): number {
    if (Number.isNaN(this.lastCapture)) return this.readSize;
    if (Number.isNaN(this.sampleCapture)) this.sampleCapture = this.firstCapture;
    const span = this.lastCapture - this.sampleCapture;
    const bytes = this.bytes - this.sampleBytes;
    if (span > 0 && (span >= RATE_SAMPLE_S || bytes >= 4 * this.readSize)) {
      const perWallMs = ((bytes / span) * this.speed) / 1000;
      this.readSize = Math.min(PACED_MAX_READ_BYTES, Math.max(PACED_MIN_READ_BYTES, Math.round(perWallMs * READ_WALL_MS)));
    } else if (span <= 0 && bytes >= 4 * this.readSize) {
      // Many records at one instant (or time stepping back): nothing to wait for between them.
      this.readSize = Math.min(PACED_MAX_READ_BYTES, this.readSize * 2);
    } else {
      return this.readSize;
    }
    this.sampleCapture = this.lastCapture;
    this.sampleBytes = this.bytes;
    return this.readSize;
  }

  flushChunk(buf: Uint8Array, start: number, end: number): void {
    this.sink.flushChunk?.(buf, start, end);
  }

  get paused(): boolean {
    return this.pause.paused;
  }

  setPaused(paused: boolean): void {
    this.pause.set(paused);
  }

  /** Wall time (ms, on `now`'s clock) at which the last record delivered is due. */
  dueAt(): number {
    if (Number.isNaN(this.firstCapture)) return -Infinity;
    return this.wallStart + this.pause.pausedMs + ((this.lastCapture - this.firstCapture) * 1000) / this.speed;
  }

  /** Awaited by the reader between reads: returns once the records delivered so far are due. */
  async gate(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      if (this.pause.paused) {
        await this.pause.hold(signal);
        continue;
      }
      const wait = this.dueAt() - this.now();
      if (wait <= 0 && this.ready()) return;
      await sleep(Math.min(MAX_SLEEP_MS, Math.max(1, wait)), signal);
    }
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
