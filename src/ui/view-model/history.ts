/**
 * Rates from successive updates. The engine reports cumulative counters (bytes per service, total
 * packets and bytes); the dashboard keeps a short history per key and derives:
 * - the current rate: delta value / delta wall time against the newest sample at least one second
 *   older (so a 4-10 Hz update rate does not make the figure flicker), and
 * - a 60-second series of per-second average rates for the sparkline.
 * The history is bounded (a few samples and 60 buckets per key) and costs O(keys) per update.
 */

/** Seconds the sparkline covers. */
export const SERIES_SECONDS = 60;
/** The current rate is measured over at least this much wall time (when the history has it). */
const RATE_WINDOW_MS = 1000;

interface KeyHistory {
  /** Recent (wallMs, value) samples, oldest first; pruned to what the rate window needs. */
  times: number[];
  values: number[];
  /** Per-second buckets (ring indexed by absolute second mod SERIES_SECONDS). */
  bucketValue: Float64Array;
  bucketMs: Float64Array;
  bucketSecond: Float64Array;
  /** Wall time of the last ingest that carried this key (keys gone for long are dropped). */
  lastSeen: number;
}

function newKey(): KeyHistory {
  return {
    times: [],
    values: [],
    bucketValue: new Float64Array(SERIES_SECONDS),
    bucketMs: new Float64Array(SERIES_SECONDS),
    bucketSecond: new Float64Array(SERIES_SECONDS).fill(-1),
    lastSeen: 0,
  };
}

export class CounterHistory {
  private readonly keys = new Map<string, KeyHistory>();
  private lastWallMs = NaN;

  /** Wall time of the newest sample, NaN before the first. */
  get latestWallMs(): number {
    return this.lastWallMs;
  }

  /**
   * Records cumulative values at `wallMs`. Samples not newer than the previous one are ignored.
   * A key first seen after the first sample starts from 0 at the previous sample (it appeared in
   * between); a counter that goes down (a restarted source) restarts from its new value.
   */
  ingest(wallMs: number, entries: Iterable<readonly [string, number]>): void {
    if (!Number.isFinite(wallMs) || wallMs <= this.lastWallMs) return;
    const prevWall = this.lastWallMs;
    for (const [key, raw] of entries) {
      const value = Number.isFinite(raw) && raw > 0 ? raw : 0;
      let h = this.keys.get(key);
      if (h === undefined) {
        h = newKey();
        this.keys.set(key, h);
        if (!Number.isNaN(prevWall)) {
          h.times.push(prevWall);
          h.values.push(0);
        }
      }
      const n = h.times.length;
      if (n > 0) {
        const t0 = h.times[n - 1]!;
        const v0 = h.values[n - 1]!;
        if (value >= v0) spread(h, t0, wallMs, value - v0);
        else {
          h.times.length = 0;
          h.values.length = 0;
        }
      }
      h.times.push(wallMs);
      h.values.push(value);
      h.lastSeen = wallMs;
      // Keep the newest sample that is at least RATE_WINDOW_MS old, and everything after it.
      let keepFrom = 0;
      for (let i = h.times.length - 1; i >= 0; i--) {
        if (wallMs - h.times[i]! >= RATE_WINDOW_MS) {
          keepFrom = i;
          break;
        }
      }
      if (keepFrom > 0) {
        h.times.splice(0, keepFrom);
        h.values.splice(0, keepFrom);
      }
    }
    this.lastWallMs = wallMs;
    for (const [key, h] of this.keys) if (wallMs - h.lastSeen > 2 * SERIES_SECONDS * 1000) this.keys.delete(key);
  }

  /** Per second, over the newest sample at least a second old (or the oldest kept); 0 when unknown. */
  rate(key: string): number {
    const h = this.keys.get(key);
    if (h === undefined || h.times.length < 2) return 0;
    const n = h.times.length;
    const dt = h.times[n - 1]! - h.times[0]!;
    return dt > 0 ? ((h.values[n - 1]! - h.values[0]!) * 1000) / dt : 0;
  }

  /**
   * Per-second average rates of the SERIES_SECONDS seconds up to the newest sample, oldest first
   * (0 where nothing was recorded).
   */
  series(key: string): number[] {
    const out = new Array<number>(SERIES_SECONDS).fill(0);
    const h = this.keys.get(key);
    if (h === undefined || Number.isNaN(this.lastWallMs)) return out;
    // The second holding the instant just before the newest sample (a sample on a second boundary ends the previous second).
    const newest = Math.ceil(this.lastWallMs / 1000) - 1;
    for (let i = 0; i < SERIES_SECONDS; i++) {
      const second = newest - (SERIES_SECONDS - 1) + i;
      const slot = mod(second, SERIES_SECONDS);
      if (h.bucketSecond[slot] === second && h.bucketMs[slot]! > 0) out[i] = (h.bucketValue[slot]! * 1000) / h.bucketMs[slot]!;
    }
    return out;
  }

  keyCount(): number {
    return this.keys.size;
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Attributes `delta` over (t0, t1] to the per-second buckets, proportionally to time. */
function spread(h: KeyHistory, t0: number, t1: number, delta: number): void {
  const span = t1 - t0;
  if (span <= 0) return;
  // Only the last SERIES_SECONDS matter; older time gets its share of the delta dropped.
  const start = Math.max(t0, t1 - SERIES_SECONDS * 1000);
  for (let s = Math.floor(start / 1000); s * 1000 < t1; s++) {
    const overlap = Math.min(t1, (s + 1) * 1000) - Math.max(start, s * 1000);
    if (overlap <= 0) continue;
    const slot = mod(s, SERIES_SECONDS);
    if (h.bucketSecond[slot] !== s) {
      h.bucketSecond[slot] = s;
      h.bucketValue[slot] = 0;
      h.bucketMs[slot] = 0;
    }
    h.bucketValue[slot] = h.bucketValue[slot]! + (delta * overlap) / span;
    h.bucketMs[slot] = h.bucketMs[slot]! + overlap;
  }
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * A sparkline of `width` cells over `series` (each cell the average of its share of the seconds),
 * scaled to the series' own maximum: ' ' for nothing, '▁'..'█' for anything above 0.
 */
export function sparkline(series: readonly number[], width: number): string {
  const w = Math.max(0, Math.floor(width));
  if (w === 0) return '';
  const n = series.length;
  if (n === 0) return ' '.repeat(w);
  const cells: number[] = [];
  for (let i = 0; i < w; i++) {
    const a = Math.floor((i * n) / w);
    const b = Math.max(a + 1, Math.floor(((i + 1) * n) / w));
    let sum = 0;
    for (let j = a; j < b && j < n; j++) sum += Number.isFinite(series[j]!) ? Math.max(0, series[j]!) : 0;
    cells.push(sum / (b - a));
  }
  const max = Math.max(...cells);
  if (!(max > 0)) return ' '.repeat(w);
  return cells.map((v) => (v > 0 ? BLOCKS[Math.min(7, Math.max(0, Math.ceil((v / max) * 8) - 1))] : ' ')).join('');
}
