/**
 * Periodic snapshots for subscribers: one wall-clock timer (unref'd: it never keeps the process
 * alive), started by the first subscriber. Both pipeline modes use it, and each worker paces its
 * own statistics with nextSnapshotDelay().
 *
 * A snapshot's cost grows with the live flows (about 20 ms at 1M live flows for the per-service
 * totals, 100 ms with the dashboard's lists: bench/snapshot.ts), and it is taken on the thread that
 * runs the engine. So the interval stretches to keep snapshots under SNAPSHOT_SHARE of that
 * thread's time: a huge table is shown less often rather than decoded more slowly.
 */
import type { Snapshot } from './results.js';

/** Most of the engine thread's time snapshots may take. */
export const SNAPSHOT_SHARE = 0.1;

/** Delay before the next snapshot, given the configured interval and what the last one cost. */
export function nextSnapshotDelay(intervalMs: number, lastCostMs: number): number {
  return Math.max(intervalMs, Math.ceil(lastCostMs / SNAPSHOT_SHARE));
}

export class SnapshotFeed {
  private readonly subscribers: Array<(s: Snapshot) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly take: () => Snapshot,
    /** Called once, when the first subscriber arrives (a worker pipeline asks its workers for live data). */
    private readonly onFirstSubscriber: () => void = () => {},
    /** What taking a snapshot costs on this thread (in-process: everything; workers: only the merge). */
    private readonly adaptive: boolean = true,
  ) {}

  get active(): boolean {
    return this.subscribers.length > 0;
  }

  subscribe(cb: (s: Snapshot) => void): void {
    this.subscribers.push(cb);
    if (this.timer !== null || this.stopped) return;
    this.onFirstSubscriber();
    this.schedule(this.intervalMs);
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      const t0 = performance.now();
      const s = this.take();
      const cost = performance.now() - t0;
      for (const c of this.subscribers) c(s);
      if (!this.stopped) this.schedule(this.adaptive ? nextSnapshotDelay(this.intervalMs, cost) : this.intervalMs);
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
