/** bench/ui.ts: the arithmetic behind its figures. */
import { describe, expect, it } from 'vitest';
import { cpuPercent, percentile } from '../../bench/ui.js';

describe('bench:ui helpers', () => {
  it('percentile by nearest rank', () => {
    const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
    expect(percentile(v, 50)).toBe(10);
    expect(percentile(v, 95)).toBe(19);
    expect(percentile(v, 100)).toBe(20);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });

  it('CPU time over wall time as % of one core', () => {
    expect(cpuPercent({ cpuMs: 250, wallMs: 1000 })).toBe(25);
    expect(cpuPercent({ cpuMs: 1500, wallMs: 1000 })).toBe(150);
    expect(cpuPercent({ cpuMs: 1, wallMs: 0 })).toBeNaN();
  });
});
