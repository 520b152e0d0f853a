/**
 * Evidence details of live flows, kept as bytes instead of objects.
 *
 * With a flow log, every live flow keeps what its recognisers decoded (a DNS name, an SNI, an HTTP
 * path...) until the flow ends. As objects that was ~200 bytes of heap per live DNS flow, more for
 * HTTP or TLS: the evidence, its detail object, one string per value, for each direction. Objects
 * that live for seconds survive young-generation collections, which copy them, and then fill the
 * old generation: on a flood of 772k flows (262k live at a time) ~240 MB of heap, a peak RSS of
 * 403 MB against 206 MB with this store, and twice the collector's pauses.
 *
 * Here a detail is encoded once into one record of a byte arena that the collector never scans,
 * and decoded back into a fresh object only when a record or a view asks for it. Decoding gives an
 * object whose own enumerable string properties are the same, in the same order, as the original's
 * (`for...in` order, which is what readers use).
 *
 * Record layout (bytes): size class (1), wide flag (1: values as UTF-16 code units, 0: one byte per
 * char, for details whose chars are all below 256, i.e. everything decoded as latin1), field count
 * (uint16 LE); then per field the key's id (uint16 LE), the value's length in chars (uint16 LE) and
 * the chars. Records sit in size classes (16 bytes up to 16 KiB, each ~1.5x the last) with a free
 * list per class, so an ended flow's record is reused by the next one of the same size. A detail that
 * does not fit these limits (a value that is not a string, more than 65,535 keys or chars, a record
 * over 16 KiB) is kept as its object, in a side list: nothing is ever cut or lost.
 */

/** Record sizes in bytes; a record takes the smallest class it fits. */
const CLASS_BYTES = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384];
const MAX_RECORD = CLASS_BYTES[CLASS_BYTES.length - 1]!;
const HEADER = 4;
const FIELD_HEADER = 4;
const MAX_U16 = 0xffff;
const INITIAL_ARENA = 64 * 1024;
/** Values up to this many chars are decoded in JavaScript, longer ones by one native call. */
const SHORT_VALUE = 12;

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/** The class index for a record of `bytes`, or -1 when it is larger than every class. */
function classFor(bytes: number): number {
  for (let c = 0; c < CLASS_BYTES.length; c++) if (bytes <= CLASS_BYTES[c]!) return c;
  return -1;
}

export class DetailStore {
  private arena: Buffer = Buffer.alloc(INITIAL_ARENA);
  /** Bytes of the arena handed out so far (the bump pointer). */
  private top = 0;
  /** Per class, offsets of free records. */
  private readonly free: number[][] = CLASS_BYTES.map(() => []);
  private readonly keyIds = new Map<string, number>();
  private readonly keys: string[] = [];
  /** Details kept as objects (see the module comment); freed entries are null. */
  private readonly side: Array<Record<string, string> | null> = [];
  private readonly freeSide: number[] = [];
  /** Records and side entries currently held (for tests and memory reports). */
  held = 0;

  /** Bytes the arena occupies. */
  get arenaBytes(): number {
    return this.arena.length;
  }

  /**
   * Stores `detail` and returns its reference: 0 for a detail without fields (nothing is stored),
   * otherwise a value to pass to get() and release().
   */
  put(detail: Readonly<Record<string, string>>): number {
    let count = 0;
    let bytes = HEADER;
    for (const k in detail) {
      const v = detail[k];
      if (typeof v !== 'string' || v.length > MAX_U16) return this.putSide(detail);
      count++;
      bytes += FIELD_HEADER + v.length;
    }
    if (count === 0) return 0;
    if (count > MAX_U16) return this.putSide(detail);
    const ref = this.write(detail, count, bytes, false);
    return ref !== 0 ? ref : this.putSide(detail);
  }

  /** The detail of `ref` as a fresh object (the shared empty object for 0). */
  get(ref: number): Record<string, string> {
    if (ref === 0) return EMPTY as Record<string, string>;
    if (ref < 0) return this.side[-ref - 1]!;
    const a = this.arena;
    let p = ref - 1;
    const wide = a[p + 1] === 1;
    const count = a[p + 2]! | (a[p + 3]! << 8);
    p += HEADER;
    const out: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const key = this.keys[a[p]! | (a[p + 1]! << 8)]!;
      const n = a[p + 2]! | (a[p + 3]! << 8);
      p += FIELD_HEADER;
      if (wide) {
        out[key] = a.toString('utf16le', p, p + 2 * n);
        p += 2 * n;
      } else if (n <= SHORT_VALUE) {
        // Most values are short (a query type, a status, a method): a native call each costs more
        // than building them here, and V8 stores strings under 13 chars flat.
        let v = '';
        for (let i = 0; i < n; i++) v += String.fromCharCode(a[p + i]!);
        out[key] = v;
        p += n;
      } else {
        out[key] = a.toString('latin1', p, p + n);
        p += n;
      }
    }
    return out;
  }

  /** Frees what `ref` holds (0: nothing). */
  release(ref: number): void {
    if (ref === 0) return;
    this.held--;
    if (ref < 0) {
      this.side[-ref - 1] = null;
      this.freeSide.push(-ref - 1);
      return;
    }
    this.free[this.arena[ref - 1]!]!.push(ref - 1);
  }

  /**
   * Encodes into a new record: one byte per char first; a char of 256 or more restarts the record
   * with two bytes per char. Returns 0 when the record would exceed the largest class.
   */
  private write(detail: Readonly<Record<string, string>>, count: number, narrowBytes: number, wide: boolean): number {
    const bytes = wide ? 2 * narrowBytes - HEADER - count * FIELD_HEADER : narrowBytes;
    if (bytes > MAX_RECORD) return 0;
    const cls = classFor(bytes);
    const at = this.allocate(cls);
    const a = this.arena;
    a[at] = cls;
    a[at + 1] = wide ? 1 : 0;
    a[at + 2] = count & 0xff;
    a[at + 3] = count >>> 8;
    let p = at + HEADER;
    for (const k in detail) {
      const v = detail[k]!;
      const id = this.keyId(k);
      if (id < 0) {
        this.free[cls]!.push(at);
        return 0;
      }
      const n = v.length;
      a[p] = id & 0xff;
      a[p + 1] = id >>> 8;
      a[p + 2] = n & 0xff;
      a[p + 3] = n >>> 8;
      p += FIELD_HEADER;
      if (wide) {
        for (let i = 0; i < n; i++) {
          const c = v.charCodeAt(i);
          a[p++] = c & 0xff;
          a[p++] = c >>> 8;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const c = v.charCodeAt(i);
          if (c > 0xff) {
            this.free[cls]!.push(at);
            return this.write(detail, count, narrowBytes, true);
          }
          a[p++] = c;
        }
      }
    }
    this.held++;
    return at + 1;
  }

  private allocate(cls: number): number {
    const list = this.free[cls]!;
    if (list.length > 0) return list.pop()!;
    const size = CLASS_BYTES[cls]!;
    if (this.top + size > this.arena.length) {
      let length = this.arena.length * 2;
      while (this.top + size > length) length *= 2;
      const grown = Buffer.alloc(length);
      this.arena.copy(grown, 0, 0, this.top);
      this.arena = grown;
    }
    const at = this.top;
    this.top += size;
    return at;
  }

  /** The id of key `k`, registered on first use; -1 once 65,536 distinct keys are known. */
  private keyId(k: string): number {
    let id = this.keyIds.get(k);
    if (id === undefined) {
      if (this.keys.length > MAX_U16) return -1;
      id = this.keys.length;
      this.keys.push(k);
      this.keyIds.set(k, id);
    }
    return id;
  }

  private putSide(detail: Readonly<Record<string, string>>): number {
    const i = this.freeSide.length > 0 ? this.freeSide.pop()! : this.side.push(null) - 1;
    this.side[i] = detail as Record<string, string>;
    this.held++;
    return -(i + 1);
  }
}
