/**
 * What only some flows have: per-flow anomaly counts and ICMP errors credited to the flow. Most
 * flows have neither, so they take no space beyond one reference word per slot: a flow gets a
 * record from a pool the first time it needs one, and gives it back when its record is written
 * (FlowTable.endFlow, an active-timeout cut). The pool grows by doubling with the flows that hold
 * a record at the same time, never per packet.
 *
 * Record layout (int32 words): the anomaly codes of up to FLOW_ANOMALY_PAIRS pairs, one byte each
 * in word 0 (0 = free pair); their counts in words 1..FLOW_ANOMALY_PAIRS; then the ICMP error
 * count. A free record's word 0 links to the next free record.
 */

/** Anomaly codes kept per flow (code, count) pairs; more distinct codes fold into the last pair. */
export const FLOW_ANOMALY_PAIRS = 4;

const W_CODES = 0;
const W_COUNTS = 1;
const W_ICMP = W_COUNTS + FLOW_ANOMALY_PAIRS;
const WORDS = W_ICMP + 1;
const INITIAL_RECORDS = 256;

export class FlowExtras {
  /** Bytes per slot up front (the reference; records are allocated by the flows that need one). */
  static readonly BYTES_PER_SLOT = 4;
  /** Record index + 1 of each slot, 0 when it has none. */
  private readonly ref: Int32Array;
  private words = new Int32Array(INITIAL_RECORDS * WORDS);
  /** Head of the free records (chained through word 0), -1 when none. */
  private freeHead = -1;
  /** Records [used, capacity of `words`) have never been handed out. */
  private used = 0;

  constructor(capacity: number) {
    this.ref = new Int32Array(capacity);
  }

  /** Counts one anomaly `code` (1..255) on the flow in `slot`. */
  addAnomaly(slot: number, code: number): void {
    const b = this.recordOf(slot) * WORDS;
    const w = this.words;
    let codes = w[b + W_CODES]!;
    for (let i = 0; i < FLOW_ANOMALY_PAIRS; i++) {
      const c = (codes >>> (i * 8)) & 0xff;
      if (c === code || c === 0 || i === FLOW_ANOMALY_PAIRS - 1) {
        // The last pair absorbs overflow under its own code (rare: four distinct codes on one flow).
        if (c === 0) {
          codes |= code << (i * 8);
          w[b + W_CODES] = codes;
        }
        w[b + W_COUNTS + i]!++;
        return;
      }
    }
  }

  /** Counts one ICMP error quoting the flow in `slot`. */
  addIcmpError(slot: number): void {
    this.words[this.recordOf(slot) * WORDS + W_ICMP]!++;
  }

  icmpErrors(slot: number): number {
    const r = this.ref[slot]!;
    return r === 0 ? 0 : this.words[(r - 1) * WORDS + W_ICMP]!;
  }

  /** (code, count) pairs of the flow's anomalies, in the order the codes first appeared. */
  anomalyPairs(slot: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const r = this.ref[slot]!;
    if (r === 0) return out;
    const b = (r - 1) * WORDS;
    const codes = this.words[b + W_CODES]!;
    for (let i = 0; i < FLOW_ANOMALY_PAIRS; i++) {
      const c = (codes >>> (i * 8)) & 0xff;
      if (c !== 0) out.push([c, this.words[b + W_COUNTS + i]!]);
    }
    return out;
  }

  /** The flow in `slot` starts over with nothing (its record, if any, goes back to the pool). */
  release(slot: number): void {
    const r = this.ref[slot]!;
    if (r === 0) return;
    this.ref[slot] = 0;
    this.words[(r - 1) * WORDS + W_CODES] = this.freeHead;
    this.freeHead = r - 1;
  }

  /** The record of `slot`, zeroed when new. */
  private recordOf(slot: number): number {
    const r = this.ref[slot]!;
    if (r !== 0) return r - 1;
    let rec = this.freeHead;
    if (rec >= 0) {
      this.freeHead = this.words[rec * WORDS + W_CODES]!;
    } else {
      if ((this.used + 1) * WORDS > this.words.length) {
        const grown = new Int32Array(this.words.length * 2);
        grown.set(this.words);
        this.words = grown;
      }
      rec = this.used++;
    }
    this.words.fill(0, rec * WORDS, rec * WORDS + WORDS);
    this.ref[slot] = rec + 1;
    return rec;
  }
}
