/**
 * When flows end: idle expiry, active-timeout cuts, and the order of end records.
 *
 * The flow clock advances with every record's capture time (not wall-clock time). Once per second
 * of capture time it sweeps: flows idle for longer than the idle timeout end, flows older than the
 * active timeout are cut into a record and continue (`continued: true`).
 *
 * End order. Every ended flow has an end key (trigger, phase, last): `trigger` is the ordinal of the
 * record during which it ended (the table's currentOrdinal; END_OF_CAPTURE_TRIGGER for flush()),
 * `phase` is its FlowEndReason (within one record: idle sweep, active cuts, port reuse, eviction;
 * then the end of capture), and `last` is the position of its last packet (its record's ordinal, + level / 10 for a packet inside a tunnel: table.ts). Flows end in increasing
 * end-key order, and which flows end at a given key does not depend on the other flows in the table
 * (except for evictions, which depend on the table's capacity): this is what lets the worker
 * pipeline split flows over several tables and merge their output into exactly the single-table
 * order (docs/pipeline.md).
 */
import type { LruSlots } from './lru.js';
import { FAST_STATE } from './fast-state.js';

export const FlowEndReason = {
  IdleTimeout: 0,
  ActiveTimeout: 1,
  PortReuse: 2,
  Evicted: 3,
  EndOfCapture: 4,
} as const;
/** Output names of FlowEndReason values, by value. */
export const FLOW_END_REASON_NAMES = ['idle-timeout', 'active-timeout', 'port-reuse', 'evicted', 'end-of-capture'] as const;
/** The trigger ordinal of flows ended by flush() (after every record). */
export const END_OF_CAPTURE_TRIGGER = Number.MAX_SAFE_INTEGER;

/** What a sweep reads from and does to the table's flows. */
export interface ExpiryHost {
  /** Capture second of the slot's last packet. */
  lastSec(slot: number): number;
  /** Capture second of the slot's first packet (of this record, after a cut). */
  firstSec(slot: number): number;
  /** True for a flow cut by the active timeout that has not seen a packet since. */
  awaitingFirst(slot: number): boolean;
  /** Ends the flow (the slot is released). */
  end(slot: number, reason: number): void;
  /** Emits the flow's record so far and continues it with fresh counters. */
  cut(slot: number): void;
}

export class FlowClock {
  private nextSweepSec = -Infinity;
  /** Highest capture second seen, and the largest step back in time below it (out-of-order records). */
  private maxSec = -Infinity;
  private backstep = 0;

  /** Seconds: idle expiry, and the active-timeout cut (0 = never). */
  constructor(
    private readonly idleTimeout: number,
    private readonly activeTimeout: number,
  ) {}

  /** What the fast path needs of the clock (flow/fast-state.ts): it advances it for the records it takes. */
  saveFastState(st: Float64Array): void {
    st[FAST_STATE.MAX_SEC] = this.maxSec;
    st[FAST_STATE.BACKSTEP] = this.backstep;
    st[FAST_STATE.NEXT_SWEEP] = this.nextSweepSec;
  }

  loadFastState(st: Float64Array): void {
    this.maxSec = st[FAST_STATE.MAX_SEC]!;
    // Stored only when changed: the field stays the small integer 0 in a capture that never steps back.
    const backstep = st[FAST_STATE.BACKSTEP]!;
    if (backstep !== this.backstep) this.backstep = backstep;
  }

  /** Advances with a record's capture second; true when a sweep is due (a new second began). */
  advance(tsSec: number): boolean {
    if (tsSec > this.maxSec) this.maxSec = tsSec;
    else if (this.maxSec - tsSec > this.backstep) this.backstep = this.maxSec - tsSec;
    return tsSec >= this.nextSweepSec;
  }

  /**
   * Expire every flow idle for longer than the idle timeout and cut flows older than the active
   * timeout.
   *
   * The LRU order is last-packet order; with timestamps that never step back it is also last-time
   * order and the scan stops at the first flow that is not idle. When records stepped back by up to
   * `backstep` seconds, a later flow's last time is at most that much older than an earlier one's,
   * so the scan goes on until that bound rules out any further idle flow: the set of flows ended is
   * exactly "idle longer than the timeout", whatever other flows the table holds.
   */
  sweep(nowSec: number, lru: LruSlots, host: ExpiryHost): void {
    this.nextSweepSec = nowSec + 1;
    const idle = this.idleTimeout;
    const slack = this.backstep;
    for (let s = lru.head; s >= 0; ) {
      const n = lru.next(s);
      const age = nowSec - host.lastSec(s);
      if (age > idle) host.end(s, FlowEndReason.IdleTimeout);
      else if (age + slack <= idle) break;
      s = n;
    }
    if (this.activeTimeout > 0) {
      for (let s = lru.head; s >= 0; ) {
        const n = lru.next(s);
        if (!host.awaitingFirst(s) && nowSec - host.firstSec(s) >= this.activeTimeout) host.cut(s);
        s = n;
      }
    }
  }
}
