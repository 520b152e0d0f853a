/**
 * Which slots are live, in the order of their last packet (least recent first), and which are
 * free. The flow table's lifetimes walk this order: idle expiry scans from the head, eviction takes
 * the head, the end of capture flushes from the head, and the worker pipeline's end keys rely on it
 * (a flow's position is the ordinal of its last packet). A doubly linked list in one Int32Array
 * (prev at 2 * slot, next at 2 * slot + 1); freed slots are chained through their `next` link and
 * reused last-freed first, then slots never used yet in increasing order (so nothing is written
 * per slot up front, and untouched slots cost no memory). Nothing allocated per packet.
 */
import { FAST_STATE } from './fast-state.js';

export class LruSlots {
  /** Bytes per slot (the prev and next links). */
  static readonly BYTES_PER_SLOT = 8;
  /** Least recently seen live slot, -1 when none. */
  head = -1;
  private tail = -1;
  private readonly links: Int32Array;
  /** Last freed slot (its `next` link leads to the one freed before), -1 when none. */
  private freeHead = -1;
  /** Slots [unused, capacity) have never been taken. */
  private unused = 0;
  private readonly capacity: number;

  /** `links`: capacity x 2 entries to use (the fast path's memory); default new. */
  constructor(capacity: number, links?: Int32Array) {
    this.capacity = capacity;
    if (links !== undefined && links.length !== capacity * 2) throw new RangeError(`LRU links: ${links.length} entries for ${capacity} slots`);
    this.links = links ?? new Int32Array(capacity * 2);
  }

  /** The fast path moves slots too (touch()): the list's ends go out and come back (flow/fast-state.ts). */
  saveFastState(st: Float64Array): void {
    st[FAST_STATE.LRU_HEAD] = this.head;
    st[FAST_STATE.LRU_TAIL] = this.tail;
  }

  loadFastState(st: Float64Array): void {
    // | 0: the fields stay small integers (a double stored into them slows every later use).
    this.head = st[FAST_STATE.LRU_HEAD]! | 0;
    this.tail = st[FAST_STATE.LRU_TAIL]! | 0;
  }

  /** True when every slot is live (take() would fail). */
  get full(): boolean {
    return this.freeHead < 0 && this.unused === this.capacity;
  }

  /** A free slot, appended at the tail (most recent). The caller makes room first when full. */
  take(): number {
    const links = this.links;
    let slot = this.freeHead;
    if (slot >= 0) this.freeHead = links[slot * 2 + 1]!;
    else slot = this.unused++;
    links[slot * 2] = this.tail;
    links[slot * 2 + 1] = -1;
    if (this.tail >= 0) links[this.tail * 2 + 1] = slot;
    else this.head = slot;
    this.tail = slot;
    return slot;
  }

  /** Moves a live slot to the tail (it just saw a packet). */
  touch(slot: number): void {
    if (slot === this.tail) return;
    const links = this.links;
    const p = links[slot * 2]!;
    const n = links[slot * 2 + 1]!;
    if (p >= 0) links[p * 2 + 1] = n;
    else this.head = n;
    links[n * 2] = p; // n >= 0 because slot is not the tail
    links[slot * 2] = this.tail;
    links[slot * 2 + 1] = -1;
    links[this.tail * 2 + 1] = slot;
    this.tail = slot;
  }

  /** Unlinks a live slot and makes it free. */
  release(slot: number): void {
    const links = this.links;
    const p = links[slot * 2]!;
    const n = links[slot * 2 + 1]!;
    if (p >= 0) links[p * 2 + 1] = n;
    else this.head = n;
    if (n >= 0) links[n * 2] = p;
    else this.tail = p;
    links[slot * 2 + 1] = this.freeHead;
    this.freeHead = slot;
  }

  /**
   * Frees every slot at once (the table's end-of-capture flush): afterwards slots are taken again
   * in increasing order, as from a new list.
   */
  clear(): void {
    this.head = -1;
    this.tail = -1;
    this.freeHead = -1;
    this.unused = 0;
  }

  /** The live slot after `slot` (more recent), -1 at the tail. */
  next(slot: number): number {
    return this.links[slot * 2 + 1]!;
  }
}
