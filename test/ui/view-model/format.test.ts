/** Unit formatting: fixed widths whatever the magnitude, 3 significant digits, no NaN. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BYTES_WIDTH,
  COUNT_WIDTH,
  RATE_WIDTH,
  formatAge,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatPacketRate,
  formatPercent,
  formatRate,
  formatRtt,
  progressBar,
} from '../../../src/ui/view-model/format.js';

const MAGNITUDES = [0, 0.4, 1, 7, 12, 999, 999.4, 999.6, 1000, 1023, 1024, 12_345, 999_999, 1e6, 1.5e9, 7.3e12, 1e18, 1e21, 1e300, Number.MAX_VALUE];
const ODD = [NaN, -1, -1e9, Infinity, -Infinity];

describe('formatRate', () => {
  it('is always RATE_WIDTH wide, in bits and in bytes', () => {
    for (const v of [...MAGNITUDES, ...ODD]) {
      expect(formatRate(v, 'bits'), String(v)).toHaveLength(RATE_WIDTH);
      expect(formatRate(v, 'bytes'), String(v)).toHaveLength(RATE_WIDTH);
    }
  });

  it('shows bits per second by default convention (x8) and bytes per second on request, SI prefixes', () => {
    expect(formatRate(1250, 'bits')).toBe('10.0 kb/s');
    expect(formatRate(1250, 'bytes')).toBe('1.25 kB/s');
    expect(formatRate(125_000_000, 'bits')).toBe('1.00 Gb/s');
    expect(formatRate(0, 'bits')).toBe('    0 b/s');
    expect(formatRate(12, 'bytes')).toBe('12.0 B/s'.padStart(RATE_WIDTH));
  });

  it('rounds up into the next prefix instead of printing four digits', () => {
    expect(formatRate(999.6, 'bytes').trim()).toBe('1.00 kB/s');
    // 999,680 b/s would print as "1000 kb/s" (four digits) without the carry.
    expect(formatRate(124_960, 'bits').trim()).toBe('1.00 Mb/s');
    expect(formatRate(124_930, 'bits').trim()).toBe('999 kb/s');
  });

  it('treats NaN and negatives as 0 and caps what no prefix can hold', () => {
    expect(formatRate(NaN, 'bits').trim()).toBe('0 b/s');
    expect(formatRate(-5, 'bits').trim()).toBe('0 b/s');
    expect(formatRate(1e300, 'bits').trim()).toBe('999+ Eb/s');
  });
});

describe('formatBytes / formatCount / formatPacketRate', () => {
  it('keep their widths for every magnitude', () => {
    for (const v of [...MAGNITUDES, ...ODD]) {
      expect(formatBytes(v), String(v)).toHaveLength(BYTES_WIDTH);
      expect(formatCount(v), String(v)).toHaveLength(COUNT_WIDTH);
      expect(formatPacketRate(v), String(v)).toHaveLength(RATE_WIDTH);
    }
  });

  it('bytes use binary prefixes like the text summary; small values stay exact', () => {
    expect(formatBytes(512)).toBe('   512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.00 MiB');
    expect(formatBytes(1023)).toBe('  1023 B');
  });

  it('counts are exact below 10,000 and scaled above', () => {
    expect(formatCount(9999)).toBe(' 9999');
    expect(formatCount(10_000)).toBe('10.0k');
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatPacketRate(12_300).trim()).toBe('12.3 kp/s');
  });

  it('property: any number keeps the widths', () => {
    fc.assert(
      fc.property(fc.double(), (v) => {
        expect(formatRate(v, 'bits')).toHaveLength(RATE_WIDTH);
        expect(formatBytes(v)).toHaveLength(BYTES_WIDTH);
        expect(formatCount(v)).toHaveLength(COUNT_WIDTH);
      }),
    );
  });
});

describe('times and bars', () => {
  it('formats durations, ages, RTT, clock times', () => {
    expect(formatDuration(45)).toBe('0:45');
    expect(formatDuration(723)).toBe('12:03');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(3 * 86_400 + 4 * 3600)).toBe('3d04h');
    expect(formatDuration(NaN)).toBe('-');
    expect(formatDuration(-1)).toBe('-');
    expect(formatAge(45)).toBe(' 45s');
    expect(formatAge(125)).toBe('  2m');
    expect(formatAge(NaN)).toBe('   -');
    expect(formatAge(1e12)).toBe('>99d');
    expect(formatRtt(0.42)).toBe('0.42ms');
    expect(formatRtt(1234)).toBe('1.23s');
    expect(formatRtt(null)).toBe('-');
    expect(formatClock(Date.UTC(2024, 4, 1, 12, 3, 4) / 1000)).toBe('12:03:04');
    expect(formatClock(1e300)).toBe('-');
  });

  it('percent and progress bar are clamped and fixed-width', () => {
    expect(formatPercent(0.456)).toBe(' 45%');
    expect(formatPercent(2)).toBe('100%');
    expect(formatPercent(NaN)).toBe('  0%');
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(-1, 4)).toBe('░░░░');
    expect(progressBar(7, 4)).toBe('████');
    expect(progressBar(0.5, -3)).toBe('');
  });
});
