/**
 * Which finished flows need a record when only the text summary reads them: its N largest flows
 * (by bytes, export/text.ts TopFlows) and its first N exposure violations. Building a record (strings
 * for addresses and times, evidence objects) costs more than the rest of a flow's end; a replay of
 * 50k flows printing the top 20 needs a few hundred of them.
 *
 * The decision is a superset of the summary's: a flow is kept while fewer than N were seen or when
 * it is at least as large as the N-th largest seen so far (TopFlows keeps a flow only when it is
 * larger than its N-th), and every violation until N were kept. With worker threads each engine
 * decides on its own flows: a worker's N-th largest so far is never above the N-th of all flows that
 * ended before (in end-key order), so every flow the merged summary keeps reached it. Numbers only:
 * a min-heap of the N largest sizes.
 */
export class LargestFlows {
  private readonly heap: Float64Array;
  private size = 0;
  private violations = 0;

  constructor(readonly n: number) {
    this.heap = new Float64Array(Math.max(1, n));
  }

  /** Whether the flow of `bytes` (a violation of the documented exposure or not) needs a record. */
  wants(bytes: number, violation: boolean): boolean {
    let want = false;
    if (violation && this.violations < this.n) {
      this.violations++;
      want = true;
    }
    if (this.n <= 0) return want;
    const h = this.heap;
    if (this.size < this.n) {
      // Sift up.
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent]! <= bytes) break;
        h[i] = h[parent]!;
        i = parent;
      }
      h[i] = bytes;
      return true;
    }
    if (bytes < h[0]!) return want;
    // Replace the smallest and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]! < h[l]! ? r : l;
      if (h[c]! >= bytes) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = bytes;
    return true;
  }
}
