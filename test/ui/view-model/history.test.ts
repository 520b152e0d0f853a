/** Rates and sparklines from successive cumulative counters. */
import { describe, expect, it } from 'vitest';
import { CounterHistory, SERIES_SECONDS, sparkline } from '../../../src/ui/view-model/history.js';

describe('CounterHistory', () => {
  it('rate = delta value / delta wall time, measured over at least a second', () => {
    const h = new CounterHistory();
    h.ingest(10_000, [['a', 0]]);
    expect(h.rate('a')).toBe(0);
    h.ingest(10_250, [['a', 250]]);
    expect(h.rate('a')).toBeCloseTo(1000); // only 250 ms known so far
    h.ingest(10_500, [['a', 1000]]);
    h.ingest(10_750, [['a', 1250]]);
    h.ingest(11_000, [['a', 1500]]);
    // Over the last second: (1500 - 0) / 1 s.
    expect(h.rate('a')).toBeCloseTo(1500);
    h.ingest(11_250, [['a', 1500]]);
    // Window 10_250..11_250: (1500 - 250) / 1 s.
    expect(h.rate('a')).toBeCloseTo(1250);
  });

  it('a key that appears later started from 0 at the previous sample', () => {
    const h = new CounterHistory();
    h.ingest(1000, [['a', 5]]);
    h.ingest(2000, [['a', 5], ['b', 400]]);
    expect(h.rate('b')).toBeCloseTo(400);
    expect(h.rate('a')).toBe(0);
    expect(h.rate('never')).toBe(0);
  });

  it('a counter that goes down restarts instead of giving a negative rate', () => {
    const h = new CounterHistory();
    h.ingest(1000, [['a', 1000]]);
    h.ingest(2000, [['a', 10]]);
    expect(h.rate('a')).toBe(0);
    h.ingest(3000, [['a', 110]]);
    expect(h.rate('a')).toBeCloseTo(100);
  });

  it('ignores samples that do not move forward in time, and junk values', () => {
    const h = new CounterHistory();
    h.ingest(2000, [['a', 100]]);
    h.ingest(3000, [['a', 300]]);
    h.ingest(3000, [['a', 900]]);
    h.ingest(2500, [['a', 900]]);
    h.ingest(NaN, [['a', 900]]);
    expect(h.rate('a')).toBeCloseTo(200);
    h.ingest(4000, [['a', NaN]]);
    expect(Number.isFinite(h.rate('a'))).toBe(true);
  });

  it('series: per-second average rates of the last 60 s, oldest first', () => {
    const h = new CounterHistory();
    let v = 0;
    for (let t = 0; t <= 10_000; t += 500) {
      h.ingest(100_000 + t, [['a', v]]);
      v += t < 5000 ? 50 : 500; // 100 B/s for 5 s, then 1000 B/s
    }
    const s = h.series('a');
    expect(s).toHaveLength(SERIES_SECONDS);
    const last = s.slice(-10);
    expect(last.slice(0, 4).every((x) => Math.abs(x - 100) < 1)).toBe(true);
    expect(last.slice(-4).every((x) => Math.abs(x - 1000) < 1)).toBe(true);
    expect(s.slice(0, 40).every((x) => x === 0)).toBe(true);
  });

  it('a gap longer than the series spreads its delta over the time it covers', () => {
    const h = new CounterHistory();
    h.ingest(0, [['a', 0]]);
    h.ingest(120_000, [['a', 120_000]]); // 1000 B/s for 2 minutes
    const s = h.series('a');
    expect(s.every((x) => Math.abs(x - 1000) < 1e-6)).toBe(true);
  });

  it('forgets keys that stopped appearing (bounded memory)', () => {
    const h = new CounterHistory();
    h.ingest(0, [['a', 1], ['b', 1]]);
    h.ingest(60_000, [['a', 2]]);
    expect(h.keyCount()).toBe(2);
    h.ingest(200_000, [['a', 3]]);
    expect(h.keyCount()).toBe(1);
  });
});

describe('sparkline', () => {
  it('scales to the series maximum, blank for nothing', () => {
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe(' ▁▂▄█');
    expect(sparkline([0, 0, 0], 3)).toBe('   ');
    expect(sparkline([], 4)).toBe('    ');
    expect(sparkline([1, 2], 0)).toBe('');
  });

  it('averages seconds into fewer cells and stretches into more', () => {
    const sixty = Array.from({ length: 60 }, (_, i) => (i < 30 ? 0 : 10));
    expect(sparkline(sixty, 6)).toBe('   ███');
    expect(sparkline([5, 10], 4)).toBe('▄▄██');
  });

  it('never breaks on NaN or negative values', () => {
    expect(sparkline([NaN, -5, Infinity, 3], 4)).toHaveLength(4);
  });
});
