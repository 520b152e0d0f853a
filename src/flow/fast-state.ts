/**
 * The words of state the engine's fast path (src/wasm/fast-path.ts) and the JavaScript side
 * exchange around each run, as indices into a Float64Array over the module's state block. The
 * module has the same numbers; src/pipeline/fast-path.ts checks them when it loads it.
 */
export const FAST_STATE = Object.freeze({
  /** In: ordinal of the record the run starts at. Out: ordinal of the record it stopped at. */
  ORDINAL: 0,
  /** In/out: the flow clock's highest second and largest step back (lifetimes.ts). */
  MAX_SEC: 1,
  BACKSTEP: 2,
  /** In: the second at which the clock's next sweep is due. */
  NEXT_SWEEP: 3,
  /** In/out: the engine's latest capture time. */
  LAST_SEC: 4,
  LAST_NSEC: 5,
  /** Out: records taken, their wire and captured bytes, and how many were truncated. */
  COUNT: 6,
  BYTES: 7,
  CAPTURED: 8,
  TRUNCATED: 9,
  /** In/out: the LRU list's head and tail (lru.ts). */
  LRU_HEAD: 10,
  LRU_TAIL: 11,
  /** In: the flow index's entries in use - 1, and the slot bits of an entry (flow-index.ts). */
  INDEX_MASK: 12,
  SLOT_MASK: 13,
  /** Out: payloads the run put in its payload queue (pipeline/fast-path.ts). */
  QUEUED: 14,
  /** Out: other workers' records the run passed (one of N >= 2 workers: their time only). */
  OTHERS: 15,
  /** Out: the link type of the records the run took (a pcapng section's interfaces differ). */
  LINK: 16,
  WORDS: 17,
});

/**
 * Where a flow table keeps what the fast path reads and writes: the rows, the flow index's entries
 * (at their largest size), the LRU links and the TCP columns. Default: arrays of its own.
 */
export interface FlowTableMemory {
  /** capacity x ROW.F64 words (row-layout.ts). */
  rows: Float64Array;
  /** FlowIndex.maxEntries(capacity) entries. */
  index: Int32Array;
  /** LruSlots.BYTES_PER_SLOT / 4 x capacity entries. */
  links: Int32Array;
  /** TcpState's columns: HISTORY_WORDS x capacity history words, and capacity SYN-or-RTT and SYN-nanosecond entries. */
  history: Uint16Array;
  synOrRtt: Float64Array;
  synNsec: Uint32Array;
}
