/**
 * Periodic snapshots for subscribers: one wall-clock timer (unref'd: it never keeps the process
 * alive), started by the first subscriber. Both pipeline modes use it.
 */
import type { Snapshot } from './results.js';

export class SnapshotFeed {
  private readonly subscribers: Array<(s: Snapshot) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly take: () => Snapshot,
    /** Called once, when the first subscriber arrives (a worker pipeline asks its workers for live data). */
    private readonly onFirstSubscriber: () => void = () => {},
  ) {}

  get active(): boolean {
    return this.subscribers.length > 0;
  }

  subscribe(cb: (s: Snapshot) => void): void {
    this.subscribers.push(cb);
    if (this.timer !== null || this.stopped) return;
    this.onFirstSubscriber();
    this.timer = setInterval(() => {
      const s = this.take();
      for (const c of this.subscribers) c(s);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
