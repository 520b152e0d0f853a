import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTsresol, TimestampConverter } from '../../src/util/timestamp.js';

/** BigInt reference: (floor(count / U), floor((count mod U) * 1e9 / U)). */
function reference(hi: number, lo: number, base: number, exp: number): [bigint, bigint] {
  const count = (BigInt(hi) << 32n) | BigInt(lo);
  const u = BigInt(base) ** BigInt(exp);
  return [count / u, ((count % u) * 1_000_000_000n) / u];
}

const RESOLUTIONS: [2 | 10, number][] = [];
for (let e = 0; e <= 19; e++) RESOLUTIONS.push([10, e]);
for (let e = 0; e <= 63; e++) RESOLUTIONS.push([2, e]);

const EDGES = [0, 1, 2, 999_999, 1_000_000, 999_999_999, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function check(conv: TimestampConverter, hi: number, lo: number, base: number, exp: number): void {
  conv.convert(hi, lo);
  const [sec, nsec] = reference(hi, lo, base, exp);
  expect(conv.nsec).toBe(Number(nsec));
  if (sec < 2n ** 53n) expect(conv.sec).toBe(Number(sec));
  else expect(conv.sec / Number(sec)).toBeCloseTo(1, 12);
}

describe('TimestampConverter', () => {
  it('matches the BigInt reference at edge values for every resolution 10^-0..10^-19 and 2^-0..2^-63', () => {
    for (const [base, exp] of RESOLUTIONS) {
      const conv = new TimestampConverter(base, exp);
      for (const hi of EDGES) for (const lo of EDGES) check(conv, hi, lo, base, exp);
    }
  });

  it('matches the BigInt reference for random 64-bit counts (values near 2^64 included)', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const hiNear64 = fc.integer({ min: 0xffff0000, max: 0xffffffff });
    fc.assert(
      fc.property(fc.constantFrom(...RESOLUTIONS), fc.oneof(u32, hiNear64), u32, ([base, exp], hi, lo) => {
        check(new TimestampConverter(base, exp), hi, lo, base, exp);
      }),
      { numRuns: 5000 },
    );
  });

  it('adds the offset in seconds and leaves the nanoseconds alone', () => {
    const c = new TimestampConverter(10, 6, -3600);
    c.convert(0, 3_600_500_000); // 3600.5 s
    expect([c.sec, c.nsec]).toEqual([0, 500_000_000]);
    const b = new TimestampConverter(2, 20, 1_000_000);
    b.convert(0, 3 * 2 ** 20 + 2 ** 19); // 3.5 s
    expect([b.sec, b.nsec]).toEqual([1_000_003, 500_000_000]);
  });

  it('reports the units per second', () => {
    expect(new TimestampConverter(10, 6).unitsPerSecond).toBe(1e6);
    expect(new TimestampConverter(10, 9).unitsPerSecond).toBe(1e9);
    expect(new TimestampConverter(2, 20).unitsPerSecond).toBe(1048576);
  });

  it('rejects exponents outside the representable range', () => {
    expect(() => new TimestampConverter(10, 20)).toThrow(RangeError);
    expect(() => new TimestampConverter(2, 64)).toThrow(RangeError);
    expect(() => new TimestampConverter(10, 1.5)).toThrow(RangeError);
  });
});

describe('parseTsresol', () => {
  it('reads powers of ten and, with the top bit set, powers of two', () => {
    expect(parseTsresol(6)).toEqual({ base: 10, exponent: 6 });
    expect(parseTsresol(19)).toEqual({ base: 10, exponent: 19 });
    expect(parseTsresol(0x80 | 10)).toEqual({ base: 2, exponent: 10 });
    expect(parseTsresol(0x80 | 63)).toEqual({ base: 2, exponent: 63 });
    expect(parseTsresol(20)).toBeNull();
    expect(parseTsresol(0x80 | 64)).toBeNull();
  });
});
