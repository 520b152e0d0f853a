/**
 * Number formatting for the dashboard. Every formatter returns a string of a fixed width (padded on
 * the left), so a column never changes width as values grow or shrink: 3 significant digits and a
 * unit prefix, like top and bandwhich. Any input is accepted: NaN, negative and infinite values
 * print as 0 or as a capped figure, never as "NaN" and never wider than the column.
 */

/** How rates are shown: bits per second (network convention, the default) or bytes per second. */
export type RateUnit = 'bits' | 'bytes';

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const;
const BINARY = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/** Width of formatRate's result. */
export const RATE_WIDTH = 9;
/** Width of formatBytes's result. */
export const BYTES_WIDTH = 8;
/** Width of formatCount's result. */
export const COUNT_WIDTH = 5;

function clean(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : Number.isNaN(n) || n <= 0 ? 0 : Number.MAX_VALUE;
}

/**
 * n as at most 4 characters (3 significant digits) and the index of its prefix. Integers below the
 * base stay exact ("512"); above, "1.23", "12.3", "123". Beyond the largest prefix: "999+".
 */
function scale(n: number, base: number, integersExact: boolean): { num: string; prefix: number } {
  let v = clean(n);
  if (v < base && integersExact && Number.isInteger(v)) return { num: String(v), prefix: 0 };
  let p = 0;
  while (v >= 999.5 && p < SI.length - 1) {
    v /= base;
    p++;
  }
  if (v >= 999.5) return { num: '999+', prefix: p };
  if (p === 0 && v >= 0.5 && integersExact) return { num: v.toFixed(0), prefix: 0 };
  const num = v < 9.995 ? v.toFixed(2) : v < 99.95 ? v.toFixed(1) : v.toFixed(0);
  return { num: p === 0 && v === 0 ? '0' : num, prefix: p };
}

/** "12.3 Mb/s" (bits) or "1.54 MB/s" (bytes), SI prefixes (1000), always RATE_WIDTH wide. */
export function formatRate(bytesPerSec: number, unit: RateUnit): string {
  const value = unit === 'bits' ? clean(bytesPerSec) * 8 : clean(bytesPerSec);
  const { num, prefix } = scale(value, 1000, false);
  const text = `${num === '0.00' ? '0' : num} ${SI[prefix]}${unit === 'bits' ? 'b/s' : 'B/s'}`;
  return text.padStart(RATE_WIDTH);
}

/** "1.23 MiB" (binary prefixes, like the text summary), always BYTES_WIDTH wide. */
export function formatBytes(bytes: number): string {
  const { num, prefix } = scale(bytes, 1024, true);
  return `${num} ${BINARY[prefix]}B`.padStart(BYTES_WIDTH);
}

/** Exact below 10,000 ("9999"), then "12.3k", "1.23M"; always COUNT_WIDTH wide. */
export function formatCount(n: number): string {
  const v = clean(n);
  if (v < 10_000) return String(Math.round(v)).padStart(COUNT_WIDTH);
  const { num, prefix } = scale(v, 1000, true);
  return `${num}${SI[prefix]}`.padStart(COUNT_WIDTH);
}

/** Packets per second, "12.3k p/s", fixed width (RATE_WIDTH). */
export function formatPacketRate(perSec: number): string {
  const { num, prefix } = scale(perSec, 1000, false);
  return `${num === '0.00' ? '0' : num} ${SI[prefix]}p/s`.padStart(RATE_WIDTH);
}

/** Connections per second (portsniff proxy), "12.3 conn/s", fixed width. */
export function formatConnectionRate(perSec: number): string {
  const { num, prefix } = scale(perSec, 1000, false);
  return `${num === '0.00' ? '0' : num} ${SI[prefix]}conn/s`.padStart(RATE_WIDTH + 3);
}

/** Elapsed time: "0:45", "12:03", "1:02:03", "3d04h"; "-" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return d > 9999 ? '>9999d' : `${d}d${String(h).padStart(2, '0')}h`;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return `${m}:${String(sec).padStart(2, '0')}`;
}

/** A short age: "0s", "45s", "12m", "3h", "4d"; 4 characters wide ("-" when unknown). */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return '   -';
  const s = Math.max(0, Math.floor(seconds));
  const text = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86_400 ? `${Math.floor(s / 3600)}h` : s < 8_640_000 ? `${Math.floor(s / 86_400)}d` : '>99d';
  return text.padStart(4);
}

/** Milliseconds with 3 significant digits: "0.42ms", "12.3ms", "1.23s"; "-" when null. */
export function formatRtt(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms >= 1000) return `${scale(ms / 1000, 1000, false).num}s`;
  return `${scale(ms, 1000, false).num}ms`;
}

/** "  45%": a fraction in [0, 1] as a 4-character percentage (clamped). */
export function formatPercent(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${Math.floor(f * 100)}%`.padStart(4);
}

/** "█████░░░░░": a fraction in [0, 1] as a bar of `width` cells. */
export function progressBar(fraction: number, width: number): string {
  const w = Math.max(0, Math.floor(width));
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.floor(f * w);
  return '█'.repeat(full) + '░'.repeat(w - full);
}

/** A capture time (seconds since the epoch) as "HH:MM:SS" UTC; "-" when out of range. */
export function formatClock(sec: number): string {
  if (!Number.isFinite(sec) || Math.abs(sec) > 8.64e12 || sec < 0) return '-';
  return new Date(Math.floor(sec) * 1000).toISOString().slice(11, 19);
}
