/**
 * The flow table's row: everything a packet of a known flow reads or writes lives in one 128-byte
 * row per slot (two adjacent cache lines): the key that lookups compare, then the counters. As
 * separate columns these were ~15 scattered cache lines per packet; the row is two, and the second
 * is usually fetched by the adjacent-line prefetcher. Offsets are in units of the view they index
 * (int32 words, f64 words, bytes, uint16 words); the f64 fields sit at even int32 offsets, f64
 * word = int32 offset / 2.
 *
 * The row is also the only copy of the key (readers go through FlowTable's accessors), and holds
 * the flow's IP version and direction basis in its spare bytes: a new flow writes its key, counters
 * and these facts into the same two cache lines.
 *
 * The modules that index rows on the packet path (table.ts, flow-index.ts, tcp-state.ts) copy these
 * offsets into module-local constants first: V8 folds a module's own constants into optimized code
 * but reads an imported binding (and checks it is initialised) at every use. Measured with a loop
 * of three typed-array reads at constant offsets: 1.37 ns per iteration with module-local
 * constants, 2.60 ns with imported ones.
 */
export const ROW = Object.freeze({
  /** Row size in f64 words, int32 words, uint16 words and bytes. */
  F64: 16,
  I32: 32,
  U16: 64,
  BYTES: 128,

  // int32 words: the key, canonical (endpoint A <= endpoint B), compared by lookups.
  /** Address words of endpoint A (4). */
  K_A: 0,
  /** Address words of endpoint B (4). */
  K_B: 4,
  /** aPort << 16 | bPort. */
  K_PORTS: 8,
  K_PROTO: 9,
  /** The key's VLAN word (flow/key.ts vlanKey). */
  K_VLAN: 10,
  /** The key's tunnel context word (decode/tunnel.ts; 0 outside tunnels). */
  K_TUNNEL: 11,

  // f64 words.
  F_LAST_ORDINAL: 6,
  F_PKTS_TO_SERVER: 7,
  F_PKTS_TO_CLIENT: 8,
  F_BYTES_TO_SERVER: 9,
  F_BYTES_TO_CLIENT: 10,
  F_PAYLOAD_TO_SERVER: 11,
  F_PAYLOAD_TO_CLIENT: 12,
  F_LAST_SEC: 13,

  // int32 words after the f64 ones.
  I_LAST_NSEC: 28,
  /** FlowFlag bits (tcp-state.ts). */
  I_FLAGS: 29,

  // Bytes and uint16 words of the last int32 pair.
  B_CLIENT_IS_A: 120,
  /** Whether the observer gets the flow's payloads: a bit per direction (table.ts inspectBit). */
  B_INSPECT: 121,
  /** uint16 word (bytes 122-123): one bit per Zeek history letter already recorded. */
  H_HISTORY_SEEN: 61,
  /** Letters in the flow's history so far. */
  B_HISTORY_LEN: 124,
  /** 4 or 6. */
  B_IP_VERSION: 125,
  /** DirectionBasis (roles.ts). */
  B_BASIS: 126,
});

/** The rows of a table of `capacity` slots, one buffer seen through four views. */
export class FlowRows {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  readonly u8: Uint8Array;

  /** `memory`: capacity x ROW.F64 words to use (the fast path's WebAssembly memory); default: new. */
  constructor(capacity: number, memory?: Float64Array) {
    if (memory !== undefined && memory.length !== capacity * ROW.F64) throw new RangeError(`rows: ${memory.length} words for ${capacity} slots`);
    this.f64 = memory ?? new Float64Array(capacity * ROW.F64);
    const { buffer, byteOffset, length } = this.f64;
    this.i32 = new Int32Array(buffer, byteOffset, length * 2);
    this.u16 = new Uint16Array(buffer, byteOffset, length * 4);
    this.u8 = new Uint8Array(buffer, byteOffset, length * 8);
  }
}
