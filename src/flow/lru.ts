/**
 * Which slots are live, in the order of their last packet (least recent first), and which are
 * free. The flow table's lifetimes walk this order: idle expiry scans from the head, eviction takes
 * the head, the end of capture flushes from the head, and the worker pipeline's end keys rely on it
 * (a flow's position is the ordinal of its last packet). A doubly linked list in one Int32Array
 * (prev at 2 * slot, next at 2 * slot + 1) and a stack of free slots: nothing allocated per packet.
 */
export class LruSlots {
  /** Least recently seen live slot, -1 when none. */
  head = -1;
  private tail = -1;
  private readonly links: Int32Array;
  private readonly free: Int32Array;
  private freeTop: number;

  constructor(capacity: number) {
    this.links = new Int32Array(capacity * 2);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i; // pop gives slot 0 first
    this.freeTop = capacity;
  }

  /** True when every slot is live (take() would fail). */
  get full(): boolean {
    return this.freeTop === 0;
  }

  /** A free slot, appended at the tail (most recent). The caller makes room first when full. */
  take(): number {
    const slot = this.free[--this.freeTop]!;
    const links = this.links;
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
    this.free[this.freeTop++] = slot;
  }

  /** The live slot after `slot` (more recent), -1 at the tail. */
  next(slot: number): number {
    return this.links[slot * 2 + 1]!;
  }
}
