/**
 * Wall-clock time for relayed connections: milliseconds since the epoch with sub-millisecond
 * resolution (performance.now() on top of the process's time origin), formatted like capture
 * timestamps. Injected into the proxy so tests can run it on a fake clock.
 */
import { formatTimestamp } from '../util/time.js';

export type WallClock = () => number;

export const systemClock: WallClock = () => performance.timeOrigin + performance.now();

/** (seconds, nanoseconds) of a millisecond wall-clock value. */
export function splitMs(ms: number): [number, number] {
  const sec = Math.floor(ms / 1000);
  const nsec = Math.min(999_999_999, Math.max(0, Math.round((ms - sec * 1000) * 1e6)));
  return [sec, nsec];
}

/** ISO 8601 with nine sub-second digits, as flow records write times. */
export function formatMs(ms: number): string {
  const [sec, nsec] = splitMs(ms);
  return formatTimestamp(sec, nsec);
}
