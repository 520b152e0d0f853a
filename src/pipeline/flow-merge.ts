/**
 * K-way merge of the flows several workers report, by end key (trigger, phase, last): the order
 * the single-threaded engine emits them in (flow/lifetimes.ts "End order").
 *
 * Each worker reports its flows in end-key order, plus a watermark: every flow it will still report
 * ends at an ordinal >= its watermark. A queued flow is emitted once it is the smallest of all queue
 * heads and its trigger lies below every worker's watermark, so nothing smaller can still come.
 */
import type { EndedFlow } from './results.js';

interface Queue {
  flows: EndedFlow[];
  keys: number[];
  head: number;
}

export class FlowMerger {
  private readonly queues: Queue[];
  private readonly watermarks: number[];
  private readonly emit: (flow: EndedFlow) => void;

  constructor(workers: number, emit: (flow: EndedFlow) => void) {
    this.queues = Array.from({ length: workers }, () => ({ flows: [], keys: [], head: 0 }));
    this.watermarks = new Array<number>(workers).fill(0);
    this.emit = emit;
  }

  /** Flows of worker `w` (keys: a (trigger, phase, last) triple per flow) and its new watermark. */
  push(w: number, flows: EndedFlow[] | null, keys: number[] | null, watermark: number): void {
    if (this.queues.length === 1) {
      // One worker: its flows come in end-key order already, and nothing else can come before them.
      if (flows !== null) for (const f of flows) this.emit(f);
      return;
    }
    const q = this.queues[w]!;
    if (flows !== null && keys !== null) {
      if (q.head === q.flows.length) {
        q.flows = flows;
        q.keys = keys;
        q.head = 0;
      } else {
        for (const f of flows) q.flows.push(f);
        for (const k of keys) q.keys.push(k);
      }
    }
    if (watermark > this.watermarks[w]!) this.watermarks[w] = watermark;
    this.drain();
  }

  /** Worker `w` will report nothing more (it finished or died). */
  close(w: number): void {
    this.watermarks[w] = Infinity;
    this.drain();
  }

  /** Flows still queued (waiting for a slower worker's watermark). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues) n += q.flows.length - q.head;
    return n;
  }

  private drain(): void {
    let limit = Infinity;
    for (const w of this.watermarks) if (w < limit) limit = w;
    const queues = this.queues;
    for (;;) {
      let best = -1;
      let bt = 0;
      let bp = 0;
      let bl = 0;
      for (let w = 0; w < queues.length; w++) {
        const q = queues[w]!;
        if (q.head === q.flows.length) continue;
        const k = q.head * 3;
        const t = q.keys[k]!;
        const p = q.keys[k + 1]!;
        const l = q.keys[k + 2]!;
        if (best < 0 || t < bt || (t === bt && (p < bp || (p === bp && l < bl)))) {
          best = w;
          bt = t;
          bp = p;
          bl = l;
        }
      }
      if (best < 0 || bt >= limit) break;
      const q = queues[best]!;
      const f = q.flows[q.head]!;
      q.head++;
      if (q.head === q.flows.length) {
        q.flows = [];
        q.keys = [];
        q.head = 0;
      } else if (q.head >= 4096 && q.head * 2 >= q.flows.length) {
        q.flows = q.flows.slice(q.head);
        q.keys = q.keys.slice(q.head * 3);
        q.head = 0;
      }
      this.emit(f);
    }
  }
}
