/**
 * Exact conversion of pcapng 64-bit timestamps to (whole seconds, nanoseconds) without BigInt.
 *
 * A pcapng timestamp is an unsigned 64-bit count of units, given as two 32-bit halves (hi, lo);
 * the unit comes from the interface's if_tsresol option: 10^-n s (n = 0..19) or, with the most
 * significant bit of the option set, 2^-n s (n = 0..63). (pcapng spec, section 4.2, if_tsresol.)
 *
 * A double holds integers exactly only below 2^53, so a 64-bit count cannot be held whole. The
 * arithmetic below is split so that every intermediate value stays below 2^53, and the per-unit
 * constants are computed once per interface (constructor), not per packet. Results:
 *  - `nsec` is always exact: floor(fraction of a second * 1e9), i.e. truncated like Wireshark.
 *  - `sec` is exact whenever the true value is below 2^53 (about 285 million years); only for
 *    resolutions coarser than 2^-11 s with counts near 2^64 could it exceed that and be rounded.
 */

const TWO_16 = 65536;
const TWO_32 = 4294967296;
/** 5^9: 1e9 = 5^9 * 2^9. */
const FIVE_9 = 1953125;
/** Largest divisor for which "remainder * 2^16 + 16-bit digit" stays below 2^53. */
const DIRECT_MAX_DIVISOR = 2 ** 37;

// How a converter splits the count (U = units per second):
/** U <= 2^37 and U divides 1e9: nsec = rem * (1e9 / U). */
const MODE_DIRECT_MUL = 0;
/** U = 10^n, n = 10..11 (U <= 2^37): nsec = floor(rem / 10^(n-9)). */
const MODE_DIRECT_DIV = 1;
/** U = 2^k, k = 10..37: nsec = floor(rem * 5^9 / 2^(k-9)), split in 16-bit parts. */
const MODE_DIRECT_BINARY = 2;
/** U = 10^n, n = 12..19: shift out 2^n, divide by 5^n. */
const MODE_BIG_DECIMAL = 3;
/** U = 2^k, k = 38..63: seconds are the top bits of the count. */
const MODE_BIG_BINARY = 4;

/** Decodes a raw if_tsresol byte into {base, exponent}; null when the exponent is unsupported. */
export function parseTsresol(value: number): { base: 2 | 10; exponent: number } | null {
  if ((value & 0x80) !== 0) {
    const exponent = value & 0x7f;
    return exponent <= 63 ? { base: 2, exponent } : null;
  }
  return value <= 19 ? { base: 10, exponent: value } : null;
}

/**
 * Converts (hi, lo) unit counts of one resolution to (sec, nsec). One instance per interface;
 * `convert()` writes `sec` and `nsec` (no allocation), then the caller reads them.
 */
export class TimestampConverter {
  /** Units per second (exact up to 2^53; informational above). */
  readonly unitsPerSecond: number;
  /** Whole seconds of the last `convert()`, plus the offset given to the constructor. */
  sec = 0;
  /** Nanoseconds (0..999_999_999) of the last `convert()`. */
  nsec = 0;

  private readonly mode: number;
  /** Divisor for the seconds: U (direct modes) or 5^n (BigDecimal). */
  private readonly div: number;
  /** DirectMul: 1e9/U. DirectDiv: 10^(n-9). BigDecimal: 5^(n-9). */
  private readonly k1: number;
  /** Shift count: n (BigDecimal), k-9 (DirectBinary), k (BigBinary). */
  private readonly shift: number;
  /** 2^shift, or 2^(shift-32) / 2^(k-32) where the mode needs it. */
  private readonly pow: number;
  private readonly offsetSec: number;

  /**
   * @param base 10 or 2 (from if_tsresol; classic pcap is base 10, exponent 6 or 9).
   * @param exponent n in 10^-n / 2^-n; base 10: 0..19, base 2: 0..63.
   * @param offsetSec whole seconds added to every result (pcapng if_tsoffset).
   */
  constructor(base: 2 | 10, exponent: number, offsetSec = 0) {
    if (!Number.isInteger(exponent) || exponent < 0 || exponent > (base === 10 ? 19 : 63)) {
      throw new RangeError(`unsupported timestamp resolution ${base}^-${exponent}`);
    }
    this.offsetSec = offsetSec;
    this.unitsPerSecond = base ** exponent;
    const units = this.unitsPerSecond;
    this.k1 = 1;
    this.shift = 0;
    this.pow = 1;
    this.div = 1;
    if (units <= DIRECT_MAX_DIVISOR) {
      this.div = units;
      if (1e9 % units === 0) {
        this.mode = MODE_DIRECT_MUL;
        this.k1 = 1e9 / units;
      } else if (base === 10) {
        this.mode = MODE_DIRECT_DIV;
        this.k1 = 10 ** (exponent - 9);
      } else {
        this.mode = MODE_DIRECT_BINARY;
        this.shift = exponent - 9;
        this.pow = 2 ** this.shift;
      }
    } else if (base === 10) {
      this.mode = MODE_BIG_DECIMAL;
      this.div = 5 ** exponent;
      this.shift = exponent;
      this.pow = 2 ** exponent;
      this.k1 = 5 ** (exponent - 9);
    } else {
      this.mode = MODE_BIG_BINARY;
      this.shift = exponent;
      this.pow = 2 ** (exponent - 32);
    }
  }

  /** Converts the unsigned 64-bit count hi * 2^32 + lo (hi, lo: unsigned 32-bit). */
  convert(hi: number, lo: number): void {
    switch (this.mode) {
      case MODE_DIRECT_MUL:
      case MODE_DIRECT_DIV:
      case MODE_DIRECT_BINARY: {
        // Long division of the 64-bit count by U in 32 + 16 + 16 bit steps; each partial dividend
        // is remainder (< U <= 2^37) * 2^16 + 16-bit digit < 2^53.
        const u = this.div;
        const q0 = Math.floor(hi / u);
        let r = hi - q0 * u;
        let x = r * TWO_16 + (lo >>> 16);
        let q1 = Math.floor(x / u);
        r = x - q1 * u;
        if (r < 0) { q1--; r += u; } else if (r >= u) { q1++; r -= u; }
        x = r * TWO_16 + (lo & 0xffff);
        let q2 = Math.floor(x / u);
        r = x - q2 * u;
        if (r < 0) { q2--; r += u; } else if (r >= u) { q2++; r -= u; }
        this.sec = q0 * TWO_32 + q1 * TWO_16 + q2 + this.offsetSec;
        if (this.mode === MODE_DIRECT_MUL) {
          this.nsec = r * this.k1;
        } else if (this.mode === MODE_DIRECT_DIV) {
          const d = this.k1;
          let n = Math.floor(r / d);
          const rr = r - n * d;
          if (rr < 0) n--; else if (rr >= d) n++;
          this.nsec = n;
        } else {
          // r < 2^37: r * 5^9 split as (ra * 2^16 + rb) * 5^9 with ra < 2^21, rb < 2^16.
          const ra = Math.floor(r / TWO_16);
          const a = ra * FIVE_9;
          const b = (r - ra * TWO_16) * FIVE_9;
          const bh = Math.floor(b / TWO_16);
          const bl = b - bh * TWO_16;
          this.nsec = shiftedFloor(a + bh, bl, TWO_16, 16, this.shift);
        }
        return;
      }
      case MODE_BIG_DECIMAL: {
        // U = 10^n = 5^n * 2^n (n = 12..19). t1 = count >> n, f = low n bits; divide t1 by 5^n.
        const n = this.shift;
        const m = this.div;
        const t1Hi = hi >>> n; // < 2^20
        const t1Lo = (hi - t1Hi * this.pow) * 2 ** (32 - n) + Math.floor(lo / this.pow);
        const f = lo % this.pow;
        const qh = Math.floor(t1Hi / m); // 0: t1Hi < 2^20 < 5^12
        const rh = t1Hi - qh * m;
        const x = rh * TWO_32 + t1Lo; // < 2^52
        let q = Math.floor(x / m);
        let r = x - q * m;
        if (r < 0) { q--; r += m; } else if (r >= m) { q++; r -= m; }
        this.sec = qh * TWO_32 + q + this.offsetSec;
        // rem = r * 2^n + f; nsec = floor(rem / 10^(n-9)) = floor((r * 2^9 + (f >> (n-9))) / 5^(n-9)).
        const d = this.k1;
        const g = Math.floor(f / 2 ** (n - 9));
        const rq = Math.floor(r / d);
        const rr = r - rq * d;
        this.nsec = rq * 512 + Math.floor((rr * 512 + g) / d);
        return;
      }
      case MODE_BIG_BINARY: {
        // U = 2^k (k = 38..63): sec = hi >> (k-32); rem = (hi mod 2^(k-32)) * 2^32 + lo.
        const p = this.pow;
        const sh = Math.floor(hi / p);
        const remHi = hi - sh * p;
        this.sec = sh + this.offsetSec;
        // nsec = floor(rem * 5^9 / 2^(k-9)); rem * 5^9 = remHi*5^9 * 2^32 + lo*5^9 (each < 2^53).
        const a = remHi * FIVE_9;
        const b = lo * FIVE_9;
        const bh = Math.floor(b / TWO_32);
        const bl = b - bh * TWO_32;
        this.nsec = shiftedFloor(a + bh, bl, TWO_32, 32, this.shift - 9);
        return;
      }
    }
  }
}

/** floor((hiPart * base + loPart) / 2^s) where base = 2^baseBits, loPart < base; result < 1e9. */
function shiftedFloor(hiPart: number, loPart: number, base: number, baseBits: number, s: number): number {
  if (s >= baseBits) return Math.floor(hiPart / 2 ** (s - baseBits));
  return hiPart * (base / 2 ** s) + Math.floor(loPart / 2 ** s);
}
