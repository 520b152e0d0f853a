/**
 * Number formatting for people, shared by the progress line and the dashboard: fixed significant
 * digits and SI suffixes so columns keep their width as numbers grow.
 */

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 950, 1.20k, 12.3k, 123k, 1.20M... (three significant digits, at most 5 characters + suffix). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '0';
  if (n < 1000) return String(Math.round(n));
  let v = n;
  let u = 0;
  while (v >= 999.5 && u < SI.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 9.995 ? v.toFixed(2) : v < 99.95 ? v.toFixed(1) : v.toFixed(0)}${SI[u]}`;
}

/** A rate in bits or bytes per second: "1.10 Gbit/s", "850 B/s". */
export function formatRate(perSec: number, unit: 'bit' | 'B'): string {
  const suffix = unit === 'bit' ? 'bit/s' : 'B/s';
  if (!Number.isFinite(perSec) || perSec < 0) return `0 ${suffix}`;
  if (perSec < 1000) return `${Math.round(perSec)} ${suffix}`;
  const c = formatCount(perSec);
  return `${c.slice(0, -1)} ${c.slice(-1)}${suffix}`;
}

/** Seconds as "42 s", "3 min 05 s", "2 h 01 min". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
