/**
 * Exact timestamps as (seconds, nanoseconds). Formatting keeps all nine sub-second digits so flow
 * times are never rounded; values outside Date's range (hostile files) are printed as raw seconds.
 */
const MAX_DATE_SEC = 8.64e12 / 1000;

export function formatTimestamp(sec: number, nsec: number): string {
  if (!Number.isFinite(sec) || Math.abs(sec) > MAX_DATE_SEC) return `@${sec}.${String(nsec).padStart(9, '0')}`;
  // Flows ending together mostly share their second: its date text is made once (two records
  // times per flow, hundreds of thousands of flows on a busy capture). Two seconds are kept, as a
  // record asks for its first and its last time in turn, which are seconds apart on most flows.
  let text: string;
  if (sec === secA) {
    text = textA;
  } else if (sec === secB) {
    text = textB;
  } else {
    text = new Date(sec * 1000).toISOString().slice(0, 19) + '.'; // YYYY-MM-DDTHH:MM:SS.
    // The slot not used last makes room.
    if (lastWasA) {
      secB = sec;
      textB = text;
    } else {
      secA = sec;
      textA = text;
    }
  }
  lastWasA = sec === secA;
  const frac = Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9 ? String(1e9 + nsec).slice(1) : String(nsec).padStart(9, '0');
  return text + frac + 'Z';
}

/** formatTimestamp's two last seconds and their date texts, and which of them it used last. */
let secA = NaN;
let textA = '';
let secB = NaN;
let textB = '';
let lastWasA = false;

/** Difference b - a in seconds (float), for durations. */
export function diffSeconds(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return bSec - aSec + (bNsec - aNsec) / 1e9;
}

/**
 * The inverse of formatTimestamp: `2024-05-01T12:00:00.123456789Z` or `@<sec>.<nsec>` back to
 * (seconds, nanoseconds); null for anything else. Consumers that only see flow records (IPFIX,
 * alerts) use it to get exact times back.
 */
export function parseTimestamp(text: string): { sec: number; nsec: number } | null {
  const raw = /^@(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\.(\d{9})$/.exec(text);
  if (raw !== null) return { sec: Number(raw[1]), nsec: Number(raw[2]) };
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}Z`);
  if (!Number.isFinite(ms)) return null;
  return { sec: ms / 1000, nsec: Number((m[2] ?? '').padEnd(9, '0')) };
}
