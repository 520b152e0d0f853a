/**
 * Parses a byte stream's chunks as they come (a pipe, a gzip stream, tcpdump's stdout), for
 * readCaptureStream (file.ts) and the live backends (live/pcap-stream.ts).
 *
 * With `own` (the sink's buffer: the engine's fast path takes records only from its own memory),
 * each chunk is copied behind the unconsumed tail there and parsed in place: a memcpy per chunk
 * for the fast path (bench/README.md "Streams: gzip and pipes"). A chunk that does not fit goes
 * through a larger buffer, and the tail moves back into `own` once it fits again. Without `own`, a
 * chunk is parsed where it is when no tail waits, and only a record cut by its end is copied.
 */
import type { CaptureParser } from './parser.js';

/** Smallest buffer made for a tail (a record cut by a chunk's end) without `own`; it grows as needed. */
const MIN_TAIL_BUFFER = 256 * 1024;

export class StreamChunks {
  private buf: Uint8Array;
  /** Bytes at the start of the current buffer not consumed yet: a record cut by a chunk's end. */
  filled = 0;

  constructor(
    private readonly parser: CaptureParser,
    private readonly own: Uint8Array | null,
  ) {
    this.buf = own ?? new Uint8Array(0);
  }

  /** Parses what `chunk` completes; keeps what it leaves cut. May throw the parser's errors. */
  push(chunk: Uint8Array): void {
    const own = this.own;
    const parser = this.parser;
    if (this.filled === 0 && (own === null || chunk.length > own.length)) {
      const used = parser.feed(chunk, 0, chunk.length);
      const tail = chunk.length - used;
      if (tail > 0) {
        if (this.buf.length < tail) this.buf = new Uint8Array(Math.max(tail, MIN_TAIL_BUFFER));
        this.buf.set(chunk.subarray(used), 0);
        this.filled = tail;
      }
    } else {
      let buf = this.buf;
      if (buf.length < this.filled + chunk.length) {
        const bigger = new Uint8Array(Math.max(this.filled + chunk.length, buf.length * 2));
        bigger.set(buf.subarray(0, this.filled), 0);
        buf = this.buf = bigger;
      }
      buf.set(chunk, this.filled);
      this.filled += chunk.length;
      const used = parser.feed(buf, 0, this.filled);
      if (used > 0) {
        buf.copyWithin(0, used, this.filled);
        this.filled -= used;
      }
    }
    if (own !== null && this.buf !== own && this.filled <= own.length) {
      own.set(this.buf.subarray(0, this.filled), 0);
      this.buf = own;
    }
  }
}
