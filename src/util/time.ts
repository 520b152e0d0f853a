/**
 * Exact timestamps as (seconds, nanoseconds). Formatting keeps all nine sub-second digits so flow
 * times are never rounded; values outside Date's range (hostile files) are printed as raw seconds.
 */
const MAX_DATE_SEC = 8.64e12 / 1000;

export function formatTimestamp(sec: number, nsec: number): string {
  if (!Number.isFinite(sec) || Math.abs(sec) > MAX_DATE_SEC) return `@${sec}.${String(nsec).padStart(9, '0')}`;
  const iso = new Date(sec * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}

/** Difference b - a in seconds (float), for durations. */
export function diffSeconds(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return bSec - aSec + (bNsec - aNsec) / 1e9;
}
