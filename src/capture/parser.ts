/**
 * Push parser for capture streams: files, gzip streams and stdin all feed byte ranges into one
 * CaptureParser, which sniffs the magic number and hands the bytes to the pcap or pcapng reader.
 *
 * Contract with the feeder (see file.ts):
 *  - feed(buf, start, end) consumes whole records only and returns how many bytes it used; the
 *    feeder keeps the rest and offers it again, with more bytes after it, on the next call.
 *    `needBytes` says how many bytes from the unconsumed start the next call needs at least, so
 *    a fixed-size buffer can be grown when one record is larger than it.
 *  - Every complete record before a bad one is delivered (and flushChunk'ed) before the
 *    CaptureFormatError for the bad one is thrown. Its offset counts from the start of the
 *    (decompressed) stream.
 *  - finish(unconsumed, offset) at EOF: a partial record left over is a warning (`truncated`),
 *    not an error; a stream too short to hold a file header is an error.
 */
import { CaptureFormatError, ErrorCode } from '../errors.js';
import { PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PcapReader } from './pcap-reader.js';
import { PcapngReader } from './pcapng-reader.js';
import type { CaptureInfo, FrameSink } from './types.js';

/** First bytes of every stream the parser accepts. */
const MAGICS: readonly (readonly number[])[] = [
  [0xd4, 0xc3, 0xb2, 0xa1], // pcap, little-endian, microseconds
  [0xa1, 0xb2, 0xc3, 0xd4], // pcap, big-endian, microseconds
  [0x4d, 0x3c, 0xb2, 0xa1], // pcap, little-endian, nanoseconds
  [0xa1, 0xb2, 0x3c, 0x4d], // pcap, big-endian, nanoseconds
  [0x0a, 0x0d, 0x0d, 0x0a], // pcapng section header block
];

function hexBytes(buf: Uint8Array, start: number, end: number): string {
  const out: string[] = [];
  for (let i = start; i < end; i++) out.push(buf[i]!.toString(16).padStart(2, '0'));
  return out.join(' ');
}

function couldBeMagicPrefix(buf: Uint8Array, start: number, end: number): boolean {
  return MAGICS.some((m) => {
    for (let i = start; i < end; i++) if (buf[i] !== m[i - start]) return false;
    return true;
  });
}

/** A readable explanation of an unrecognised magic number. */
function badMagicDetail(buf: Uint8Array, start: number, end: number): string {
  const shown = hexBytes(buf, start, Math.min(end, start + 4));
  let hint = '';
  if (buf[start] === 0x1f && buf[start + 1] === 0x8b) hint = ' (this looks gzip-compressed; was it compressed twice?)';
  else if (
    (buf[start] === 0x34 && buf[start + 1] === 0xcd && buf[start + 2] === 0xb2 && buf[start + 3] === 0xa1) ||
    (buf[start] === 0xa1 && buf[start + 1] === 0xb2 && buf[start + 2] === 0xcd && buf[start + 3] === 0x34)
  ) {
    hint = ' (Kuznetzov modified pcap, which is not supported)';
  }
  return (
    `not a pcap or pcapng capture: the first bytes are ${shown}, expected a pcap magic ` +
    `(a1b2c3d4 or a1b23c4d, either byte order) or a pcapng section header (0a 0d 0d 0a)${hint}`
  );
}

type Reader = PcapReader | PcapngReader;

export class CaptureParser {
  /** Records delivered to the sink. */
  packets = 0;
  /** pcapng blocks skipped (unknown or irrelevant types). */
  skippedBlocks = 0;
  /** Set by finish() when the stream ended inside a record. */
  truncated?: { offset: number; message: string };
  /** Bytes consumed so far (whole headers, records and blocks). */
  bytesConsumed = 0;

  private readonly sink: FrameSink;
  private readonly fileName: string;
  private reader: Reader | null = null;
  private failed: CaptureFormatError | null = null;
  private finished = false;

  constructor(sink: FrameSink, fileName: string) {
    this.sink = sink;
    this.fileName = fileName;
  }

  /** What is known of the file so far (empty before the header has been read). */
  get info(): CaptureInfo {
    if (this.reader !== null) return this.reader.info;
    return { format: null, byteOrder: null, sections: 0, interfaces: [] };
  }

  /** Bytes needed from the unconsumed start before feed() can make progress. */
  get needBytes(): number {
    return this.reader === null ? 4 : this.reader.needBytes;
  }

  /**
   * Parses whole records in buf[start, end); returns the bytes consumed (0 when more data is
   * needed). Frames point into `buf`. Throws CaptureFormatError at a bad record, after the
   * records before it were delivered and flushed.
   */
  feed(buf: Uint8Array, start: number, end: number): number {
    if (this.failed !== null) throw this.failed;
    if (this.finished) throw new Error('CaptureParser.feed() called after finish()');
    if (this.reader === null) {
      if (end - start < 4) {
        if (!couldBeMagicPrefix(buf, start, end)) this.fail(ErrorCode.BadMagic, 0, badMagicDetail(buf, start, end));
        return 0;
      }
      this.reader = this.sniff(buf, start);
    }
    const reader = this.reader;
    const consumed = reader.feed(buf, start, end, this.bytesConsumed);
    this.packets = reader.packets;
    if (reader instanceof PcapngReader) this.skippedBlocks = reader.skippedBlocks;
    if (consumed > 0) {
      this.bytesConsumed += consumed;
      this.sink.flushChunk?.(buf, start, start + consumed);
    }
    if (reader.error !== null) {
      this.failed = reader.error;
      throw reader.error;
    }
    return consumed;
  }

  /**
   * End of stream: `unconsumed` bytes were left after the last feed, starting at stream offset
   * `offset`. Records a truncation warning, or throws if no file header could be read.
   */
  finish(unconsumed: number, offset: number): void {
    if (this.failed !== null) throw this.failed;
    this.finished = true;
    const reader = this.reader;
    if (reader === null) {
      if (unconsumed === 0) {
        this.fail(ErrorCode.TruncatedFile, 0, 'the capture is empty (0 bytes): not a pcap or pcapng file');
      }
      this.fail(
        ErrorCode.TruncatedFile,
        0,
        `the capture is only ${unconsumed} byte${unconsumed === 1 ? '' : 's'} long, too short for a pcap or pcapng file header`,
      );
    }
    if (!reader.headerRead) {
      // Nothing readable at all: the file header itself is cut.
      this.fail(ErrorCode.TruncatedFile, offset, reader.truncationMessage(unconsumed));
    }
    if (unconsumed > 0) this.truncated = { offset, message: reader.truncationMessage(unconsumed) };
  }

  private fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], offset: number, detail: string): never {
    this.failed = new CaptureFormatError(code, this.fileName, offset, detail);
    throw this.failed;
  }

  private sniff(buf: Uint8Array, p: number): Reader {
    const le = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    const be = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    if (le === PCAP_MAGIC_USEC) return new PcapReader(this.sink, this.fileName, true, false);
    if (be === PCAP_MAGIC_USEC) return new PcapReader(this.sink, this.fileName, false, false);
    if (le === PCAP_MAGIC_NSEC) return new PcapReader(this.sink, this.fileName, true, true);
    if (be === PCAP_MAGIC_NSEC) return new PcapReader(this.sink, this.fileName, false, true);
    if (le === 0x0a0d0d0a) return new PcapngReader(this.sink, this.fileName);
    return this.fail(ErrorCode.BadMagic, 0, badMagicDetail(buf, p, p + 4));
  }
}
