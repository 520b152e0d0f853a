/**
 * The flow table's index: key -> slot, open addressing with linear probing and backward-shift
 * deletion (no tombstones). No Map and no string keys: a string-keyed Map was measured ~3x slower
 * (bench/micro.ts keeps it as the losing alternative).
 *
 * An entry is one 32-bit word (0 = empty): slot + 1 in the low bits (`slotMask`), then the entry's
 * distance from its home position (DIST_BITS, saturated at DIST_MAX), then the key hash's remaining
 * high bits as a tag. Half the size of (slot, hash) pairs, so the index of a few ten thousand flows
 * stays in the core's L2 cache. A tag match (rarely a false one) is confirmed against the key at the
 * start of the slot's row (row-layout.ts). The index starts small and doubles whenever it is half
 * full, up to 2 x capacity entries, instead of spreading a few flows over an index sized for
 * --max-flows.
 *
 * The distance is what a deletion needs to move the entries after the hole back: their home
 * positions. They used to come from each moved entry's full hash, in the hash column (one read
 * per entry looked at, a cache miss each on a flood that evicts a flow per new one). The hash
 * column (4 bytes a slot) stays for the slot being removed, an entry displaced DIST_MAX or more
 * (rare at a load of at most 1/2) and a doubling.
 *
 * Growing happens in place: the index is one array of the largest size, allocated up front, of
 * which the first `mask + 1` entries are in use (the pages beyond are never touched, so cost no
 * memory), and a doubling rebuilds the larger prefix from the live slots' hashes. A new array per
 * doubling left each old one written and resident until a garbage collection, which a run that
 * allocates nothing per packet may not have for its whole length: 2 MiB at the default
 * --max-flows, 8 MiB at 1,000,000.
 */
import type { DecodedPacket } from '../decode/types.js';
import { ROW } from './row-layout.js';
import { FAST_STATE } from './fast-state.js';

// Module-local copies (row-layout.ts says why).
const { I32: ROW_I32, K_A, K_B, K_PORTS, K_PROTO, K_VLAN, K_TUNNEL } = ROW;

/** Index entries to start with. */
const INITIAL_INDEX_ENTRIES = 4096;
/** Bits of an entry's distance from its home (src/wasm/fast-path.ts derives the tag mask with it). */
export const DIST_BITS = 3;
/** A distance of DIST_MAX or more is stored as DIST_MAX: the home then comes from the hash column. */
const DIST_MAX = (1 << DIST_BITS) - 1;
/** Slot bits an entry can have (--max-flows is at most 50,000,000: 26 bits) and keep a tag. */
const MAX_SLOT_BITS = 32 - DIST_BITS - 2;

function nextPow2(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

export class FlowIndex {
  /** Bytes per slot: the index at its largest size (2 one-word entries per slot) and the hash column. */
  static readonly BYTES_PER_SLOT = 12;
  /** Entries in use - 1 (a power of two minus one). */
  private mask: number;
  /** At the largest size; entries [0, mask + 1) are in use. */
  private readonly index: Int32Array;
  private readonly slotMask: number;
  private readonly slotBits: number;
  /** The hash bits an entry keeps (above the slot and the distance). */
  private readonly tagMask: number;
  /** Slots below this have been inserted at least once. */
  private highWater = 0;
  /** The key hash of each slot, written by insert(): a doubling rebuilds from it. */
  private readonly hash: Int32Array;

  /**
   * `keys` is the rows' int32 view (the key at the start of each row), and `serial` the table's
   * serial column, both shared with the table: a slot that was ever inserted is in the index while
   * its serial is >= 0 (the table removes a flow from the index, then sets its serial to -1).
   * `initialEntries`: the size in use to start with (tests make it small to exercise growth).
   * `entries`: the index's memory at its largest size (maxEntries; the fast path's), default new.
   */
  constructor(
    capacity: number,
    private readonly keys: Int32Array,
    private readonly serial: Float64Array,
    initialEntries = INITIAL_INDEX_ENTRIES,
    entries?: Int32Array,
  ) {
    const maxEntries = FlowIndex.maxEntries(capacity);
    this.mask = Math.min(maxEntries, nextPow2(initialEntries)) - 1;
    if (entries !== undefined && entries.length !== maxEntries) throw new RangeError(`flow index: ${entries.length} entries for ${capacity} slots`);
    // Bits for slot + 1 (at most capacity); above them the distance, then the hash tag.
    this.slotBits = 32 - Math.clz32(capacity);
    if (this.slotBits > MAX_SLOT_BITS) throw new RangeError(`flow index: ${capacity} slots is more than it can address`);
    this.index = entries ?? new Int32Array(maxEntries);
    this.hash = new Int32Array(capacity);
    this.slotMask = (2 ** this.slotBits - 1) | 0;
    this.tagMask = ~((2 ** (this.slotBits + DIST_BITS)) - 1) | 0;
  }

  /** Entries of the index at its largest size, for `capacity` slots. */
  static maxEntries(capacity: number): number {
    return nextPow2(capacity * 2);
  }

  /** What the fast path reads: the entries in use - 1 and the slot bits (flow/fast-state.ts). */
  saveFastState(st: Float64Array): void {
    st[FAST_STATE.INDEX_MASK] = this.mask;
    st[FAST_STATE.SLOT_MASK] = this.slotMask;
  }

  /** Entries in use (tests). */
  get size(): number {
    return this.mask + 1;
  }

  /**
   * The slot whose key is the packet's (hash `h`, from canonicalKeyHash over the key in canonical
   * order), or -1. `srcIsA`: the packet's source is endpoint A of the key; the ports, VLAN and tunnel
   * words are passed as the key has them (0 for a packet without ports, outside tunnels). The only lookup: a quoted key
   * (ICMP errors) is looked up through a packet holding that key (icmp-errors.ts).
   */
  find(h: number, p: DecodedPacket, srcIsA: boolean, sPort: number, dPort: number, proto: number, vlan: number, tunnel: number): number {
    const index = this.index;
    const keys = this.keys;
    const mask = this.mask;
    const slotMask = this.slotMask;
    const tagMask = this.tagMask;
    const tag = h & tagMask;
    // The key row holds endpoint A (the lower one) first.
    const ports = srcIsA ? (sPort << 16) | dPort : (dPort << 16) | sPort;
    const x3 = (srcIsA ? p.src3 : p.dst3) | 0;
    const y3 = (srcIsA ? p.dst3 : p.src3) | 0;
    let i = h & mask;
    for (;;) {
      const e = index[i]!;
      if (e === 0) return -1;
      if ((e & tagMask) === tag) {
        // The row starts with the whole key: one cache line for the comparison.
        const k = ((e & slotMask) - 1) * ROW_I32;
        if (
          keys[k + K_PORTS] === ports && keys[k + K_A + 3] === x3 && keys[k + K_B + 3] === y3 && keys[k + K_PROTO] === proto &&
          keys[k + K_VLAN] === (vlan | 0) && keys[k + K_TUNNEL] === (tunnel | 0)
        ) {
          const v6 = srcIsA
            ? keys[k + K_A] === (p.src0 | 0) && keys[k + K_A + 1] === (p.src1 | 0) && keys[k + K_A + 2] === (p.src2 | 0) &&
              keys[k + K_B] === (p.dst0 | 0) && keys[k + K_B + 1] === (p.dst1 | 0) && keys[k + K_B + 2] === (p.dst2 | 0)
            : keys[k + K_A] === (p.dst0 | 0) && keys[k + K_A + 1] === (p.dst1 | 0) && keys[k + K_A + 2] === (p.dst2 | 0) &&
              keys[k + K_B] === (p.src0 | 0) && keys[k + K_B + 1] === (p.src1 | 0) && keys[k + K_B + 2] === (p.src2 | 0);
          if (v6) return (e & slotMask) - 1;
        }
      }
      i = (i + 1) & mask;
    }
  }

  /** Adds `slot` (its key already in its row, `h` its hash); `live` counts it already. */
  insert(slot: number, h: number, live: number): void {
    // Keep the load factor at most 1/2 (short probe chains).
    if (live * 2 > this.mask + 1 && this.mask + 1 < this.index.length) this.grow(slot);
    if (slot >= this.highWater) this.highWater = slot + 1;
    this.hash[slot] = h;
    this.place(slot, h);
  }

  /** Puts slot's entry at the first free position from its home. */
  private place(slot: number, h: number): void {
    const index = this.index;
    const mask = this.mask;
    const home = h & mask;
    let i = home;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = this.entry(slot, h & this.tagMask, (i - home) & mask);
  }

  private entry(slot: number, tag: number, dist: number): number {
    return tag | ((dist < DIST_MAX ? dist : DIST_MAX) << this.slotBits) | (slot + 1);
  }

  /**
   * Doubles the entries in use, in place: clears the old ones and inserts every indexed slot again
   * (all but `inserting`, which insert() adds after), from the hash column in slot order (hashing
   * the keys in the rows instead read 32 times the memory: +10-25 ms on a flood).
   */
  private grow(inserting: number): void {
    const serial = this.serial;
    const hash = this.hash;
    this.index.fill(0, 0, this.mask + 1);
    this.mask = (this.mask + 1) * 2 - 1;
    for (let s = 0; s < this.highWater; s++) {
      if (serial[s]! < 0 || s === inserting) continue;
      this.place(s, hash[s]!);
    }
  }

  /** The hash and the home entry of `slot` (what remove() reads first): the table's prefetch(). */
  home(slot: number): number {
    const h = this.hash[slot]!;
    return h + this.index[h & this.mask]!;
  }

  /** Removes every slot at once (the table's end-of-capture flush), keeping the size in use. */
  clear(): void {
    this.index.fill(0, 0, this.mask + 1);
  }

  /**
   * Removes `slot`. Backward-shift deletion keeps probe chains intact without tombstones; each entry
   * after the hole knows its home from its distance.
   */
  remove(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    const slotMask = this.slotMask;
    const slotBits = this.slotBits;
    const hash = this.hash;
    let i = hash[slot]! & mask;
    while ((index[i]! & slotMask) !== slot + 1) {
      if (index[i] === 0) throw new Error(`flow table invariant: slot ${slot} not indexed`);
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = index[j]!;
      if (e === 0) break;
      const dist = (e >>> slotBits) & DIST_MAX;
      if (dist === 0) continue; // at its home: it stays
      const home = dist < DIST_MAX ? (j - dist) & mask : hash[(e & slotMask) - 1]! & mask;
      // Move e back into the hole at i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        index[i] = this.entry((e & slotMask) - 1, e & this.tagMask, (i - home) & mask);
        i = j;
      }
    }
    index[i] = 0;
  }
}
