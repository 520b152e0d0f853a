/**
 * A frame: what one screen refresh shows. The dashboard builds one from the latest SessionUpdate at
 * most `refreshHz` times per second, together with the rates derived from the updates before it
 * (history.ts). A frame is immutable: a paused (frozen) view keeps re-rendering the same frame while
 * sort, filter and drill-down change.
 */
import type { SessionUpdate } from '../../export/consumer.js';
import { CounterHistory } from './history.js';

export interface ServiceRate {
  /** Wire bytes per second now (both directions). */
  bytesPerSec: number;
  /** Per-second average rates of the last 60 s, oldest first. */
  series: readonly number[];
}

/** Where the session is, as the status line tells it. */
export type SessionStatus = 'running' | 'stopping' | 'finished';

export interface Frame {
  update: SessionUpdate;
  /** By service key. */
  rates: ReadonlyMap<string, ServiceRate>;
  packetsPerSec: number;
  bytesPerSec: number;
  /** New flows (connections, in proxy mode) per second. */
  flowsPerSec: number;
  /** 60 s of total bytes/s for the header. */
  totalSeries: readonly number[];
}

const TOTAL_PACKETS = '\0packets';
const TOTAL_BYTES = '\0bytes';
const TOTAL_FLOWS = '\0flows';

/** Turns successive updates into frames; keeps the per-service history between them. */
export class FrameBuilder {
  private readonly history = new CounterHistory();
  private lastIngested: SessionUpdate | null = null;

  /** Records an update's counters (call for every update shown or not, in order). */
  ingest(u: SessionUpdate): void {
    if (u === this.lastIngested) return;
    this.lastIngested = u;
    const entries: Array<readonly [string, number]> = [
      [TOTAL_PACKETS, u.snapshot.totals.packets],
      [TOTAL_BYTES, u.snapshot.totals.bytes],
      [TOTAL_FLOWS, u.snapshot.totals.flows],
    ];
    for (const s of u.snapshot.services) entries.push([s.key, s.bytes.toServer + s.bytes.toClient]);
    this.history.ingest(u.wallMs, entries);
  }

  /** A frame for `u` from the history so far (ingest `u` first). */
  build(u: SessionUpdate): Frame {
    const rates = new Map<string, ServiceRate>();
    for (const s of u.snapshot.services) rates.set(s.key, { bytesPerSec: this.history.rate(s.key), series: this.history.series(s.key) });
    return {
      update: u,
      rates,
      packetsPerSec: this.history.rate(TOTAL_PACKETS),
      bytesPerSec: this.history.rate(TOTAL_BYTES),
      flowsPerSec: this.history.rate(TOTAL_FLOWS),
      totalSeries: this.history.series(TOTAL_BYTES),
    };
  }
}
