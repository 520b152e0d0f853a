import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTimestamp } from '../../src/util/time.js';

describe('formatTimestamp', () => {
  it('nine sub-second digits, the same second many times and back', () => {
    expect(formatTimestamp(1_704_067_200, 622_000)).toBe('2024-01-01T00:00:00.000622000Z');
    expect(formatTimestamp(1_704_067_200, 0)).toBe('2024-01-01T00:00:00.000000000Z');
    expect(formatTimestamp(1_704_067_201, 999_999_999)).toBe('2024-01-01T00:00:01.999999999Z');
    expect(formatTimestamp(1_704_067_200, 5)).toBe('2024-01-01T00:00:00.000000005Z');
    expect(formatTimestamp(0, 1)).toBe('1970-01-01T00:00:00.000000001Z');
    expect(formatTimestamp(-1, 0)).toBe('1969-12-31T23:59:59.000000000Z');
    expect(parseTimestamp(formatTimestamp(1_704_067_200, 123))).toEqual({ sec: 1_704_067_200, nsec: 123 });
  });

  it('the ends of the Date range, fractional seconds, nanoseconds out of range and seconds out of Date range print as before', () => {
    expect(formatTimestamp(8.64e9, 7)).toBe('2243-10-17T00:00:00.000000007Z');
    expect(formatTimestamp(-8.64e9, 7)).toBe('1696-03-17T00:00:00.000000007Z');
    expect(formatTimestamp(1.5, 2)).toBe('1970-01-01T00:00:01.000000002Z');
    expect(formatTimestamp(1_704_067_200, 1_000_000_000)).toBe('2024-01-01T00:00:00.1000000000Z');
    expect(formatTimestamp(1_704_067_200, -5)).toBe('2024-01-01T00:00:00.0000000-5Z');
    expect(formatTimestamp(1e15, 3)).toBe('@1000000000000000.000000003');
    expect(formatTimestamp(Number.NaN, 3)).toBe('@NaN.000000003');
  });

  it('seconds asked in any order (a flow\'s first and last time in turn) give the same text as Date', () => {
    const reference = (sec: number, nsec: number): string => new Date(sec * 1000).toISOString().slice(0, 19) + '.' + String(nsec).padStart(9, '0') + 'Z';
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      // Mostly a few seconds that recur (first and last times of interleaved flows), some new ones.
      const sec = 1_704_067_200 + (i % 7 === 0 ? x % 100_000 : x % 4);
      const nsec = x % 1_000_000_000;
      expect(formatTimestamp(sec, nsec), `${sec}.${nsec}`).toBe(reference(sec, nsec));
    }
  });
});
