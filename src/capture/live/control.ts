/**
 * What both backends do around the capture itself: stop on abort or --duration (once), advance the
 * flow clock once a second while the link may be quiet, and remember why the capture stopped.
 */
import type { FlowClockTick } from './types.js';

export type StopReason = 'signal' | 'duration' | 'count' | 'backend' | 'error';

/** Ticks lag the wall clock by this much, so packets still in the pipe are never "in the future". */
const TICK_LAG_SEC = 1;

export class LiveControl {
  stopReason: StopReason | null = null;
  readonly startedMs = Date.now();
  private readonly onStop: (reason: StopReason) => void;
  private readonly signal: AbortSignal;
  private durationTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly abortListener = (): void => this.stop('signal');

  constructor(signal: AbortSignal, onStop: (reason: StopReason) => void) {
    this.signal = signal;
    this.onStop = onStop;
  }

  /** Arms the abort listener, the --duration timer and the flow-clock tick. */
  arm(durationSec: number | undefined, tick: FlowClockTick | undefined): void {
    if (this.stopReason !== null) return;
    if (this.signal.aborted) {
      this.stop('signal');
      return;
    }
    this.signal.addEventListener('abort', this.abortListener, { once: true });
    if (durationSec !== undefined && durationSec > 0) {
      this.durationTimer = setTimeout(() => this.stop('duration'), Math.round(durationSec * 1000));
    }
    if (tick !== undefined) {
      this.tickTimer = setInterval(() => {
        if (this.stopReason === null) tick(Math.floor(Date.now() / 1000) - TICK_LAG_SEC);
      }, 1000);
      this.tickTimer.unref();
    }
  }

  /** Requests a stop; only the first reason counts and calls the backend's stop. */
  stop(reason: StopReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.clearTimers();
    this.onStop(reason);
  }

  /** Seconds since construction. */
  elapsedSec(): number {
    return Math.round(Date.now() - this.startedMs) / 1000;
  }

  dispose(): void {
    this.clearTimers();
    this.signal.removeEventListener('abort', this.abortListener);
  }

  private clearTimers(): void {
    if (this.durationTimer !== null) clearTimeout(this.durationTimer);
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.durationTimer = null;
    this.tickTimer = null;
  }
}
