/**
 * Shared-memory chunks: how the reading thread hands records to the workers without copying them.
 *
 * A chunk is two SharedArrayBuffers: `data` holds capture bytes exactly as read from the file (the
 * reader reads straight into it), `index` describes the records the parser found in it, one entry
 * per record: the capture time's seconds (Float64Array `sec`), five 32-bit words (`rec`: offset
 * in data, captured length, original length, nanoseconds, link type) and the record's host-pair
 * bucket (`bucket`, from shard.ts pairBucketOf: 0..63, SLOW_BUCKET or NO_PAIR_BUCKET). A record is
 * at least MIN_RECORD_BYTES long in every format, so an index sized data/MIN_RECORD_BYTES never
 * overflows.
 *
 * The control array (Int32Array over its own SharedArrayBuffer) holds one reference count per chunk:
 * the reader sets it to the number of workers when it hands the chunk over, each worker decrements it
 * when done, and the reader reuses a chunk only at zero. The pool has a fixed number of chunks, which
 * bounds memory and makes the reader wait for slow workers (backpressure).
 */

/** Words per record in `rec`. */
export const RECORD_WORDS = 5;
export const REC_OFFSET = 0;
export const REC_CAPLEN = 1;
export const REC_ORIGLEN = 2;
export const REC_NSEC = 3;
export const REC_LINKTYPE = 4;
/** Smallest record of any format (a pcap record header; a pcapng Simple Packet Block). */
export const MIN_RECORD_BYTES = 16;

export interface ChunkBuffers {
  data: SharedArrayBuffer;
  index: SharedArrayBuffer;
}

/** Typed views over one chunk's buffers. */
export class ChunkView {
  readonly id: number;
  readonly buffers: ChunkBuffers;
  readonly u8: Uint8Array;
  readonly sec: Float64Array;
  readonly rec: Uint32Array;
  readonly bucket: Uint8Array;
  /** Bytes of data. */
  readonly size: number;
  /** Records the index can hold. */
  readonly capacity: number;

  constructor(id: number, buffers: ChunkBuffers) {
    this.id = id;
    this.buffers = buffers;
    this.u8 = new Uint8Array(buffers.data);
    this.size = this.u8.length;
    this.capacity = indexCapacity(this.size);
    this.sec = new Float64Array(buffers.index, 0, this.capacity);
    this.rec = new Uint32Array(buffers.index, this.capacity * 8, this.capacity * RECORD_WORDS);
    this.bucket = new Uint8Array(buffers.index, this.capacity * (8 + RECORD_WORDS * 4), this.capacity);
  }

  /** Describes record `i` (its bytes at `dataOffset` in this chunk) in the index. */
  put(i: number, dataOffset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, bucket: number): void {
    const r = i * RECORD_WORDS;
    const rec = this.rec;
    rec[r + REC_OFFSET] = dataOffset;
    rec[r + REC_CAPLEN] = capLen;
    rec[r + REC_ORIGLEN] = origLen;
    rec[r + REC_NSEC] = tsNsec;
    rec[r + REC_LINKTYPE] = linkType;
    this.sec[i] = tsSec;
    this.bucket[i] = bucket;
  }
}

function indexCapacity(size: number): number {
  return Math.ceil(size / MIN_RECORD_BYTES) + 1;
}

export function allocateChunk(size: number): ChunkBuffers {
  const capacity = indexCapacity(size);
  return { data: new SharedArrayBuffer(size), index: new SharedArrayBuffer(capacity * (8 + RECORD_WORDS * 4 + 1)) };
}
