/**
 * Port lists as rules print them ("8443", "10000-19999", "3333-3341,3343-3344,36379"), parsed into
 * sorted, merged ranges so the dashboard can show the port an ambiguity is about (the intersection
 * of its candidates' ports) and filter rows by port.
 */

/** Inclusive [lo, hi] ranges, sorted and merged. */
export type PortRanges = ReadonlyArray<readonly [number, number]>;

const MAX_PORT = 65_535;

/** "8443,10000-19999" -> [[8443,8443],[10000,19999]]; junk pieces are skipped (rules are validated upstream). */
export function parsePortList(text: string): PortRanges {
  const out: Array<[number, number]> = [];
  for (const piece of text.split(',')) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(piece);
    if (m === null) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > MAX_PORT || hi > MAX_PORT || hi < lo) continue;
    out.push([lo, hi]);
  }
  return merge(out);
}

function merge(list: Array<[number, number]>): PortRanges {
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of list) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function portInRanges(port: number, ranges: PortRanges): boolean {
  for (const [lo, hi] of ranges) if (port >= lo && port <= hi) return true;
  return false;
}


export function intersectRanges(a: PortRanges, b: PortRanges): PortRanges {
  const out: Array<[number, number]> = [];
  for (const [alo, ahi] of a) {
    for (const [blo, bhi] of b) {
      const lo = Math.max(alo, blo);
      const hi = Math.min(ahi, bhi);
      if (lo <= hi) out.push([lo, hi]);
    }
  }
  return merge(out);
}

/** [[8443,8443],[10000,19999]] -> "8443,10000-19999". */
export function formatPortRanges(ranges: PortRanges): string {
  return ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',');
}
