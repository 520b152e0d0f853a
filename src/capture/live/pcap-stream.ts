/**
 * Feeds a live pcap byte stream (tcpdump's stdout, or the records the cap backend builds) into a
 * CaptureParser, and tees the very same bytes to the --write file first, so that file is
 * byte-for-byte what was captured (as `tcpdump -w` would have written it).
 *
 * Chunks are parsed as readCaptureStream parses a stream's (stream-chunks.ts): in the sink's buffer
 * when it hands one out (the engine's fast path then takes the records), else in place.
 */
import * as fs from 'node:fs';
import { ErrorCode, PortsniffError } from '../../errors.js';
import { READ_BUFFER_BYTES } from '../file.js';
import { CaptureParser } from '../parser.js';
import { plainBytes } from '../read-support.js';
import { errnoText } from '../../util/errno.js';
import { StreamChunks } from '../stream-chunks.js';
import type { CaptureInfo, CaptureReadResult, FrameSink } from '../types.js';

export class PcapStreamFeeder {
  readonly parser: CaptureParser;
  /** Bytes received from the backend (= bytes written to the --write file). */
  bytesIn = 0;
  private readonly chunks: StreamChunks;
  private readonly writeFd: number | null;
  private readonly writePath: string | null;

  constructor(sink: FrameSink, name: string, write: { fd: number; path: string } | null) {
    this.parser = new CaptureParser(sink, name);
    this.chunks = new StreamChunks(this.parser, sink.readBuffer?.(READ_BUFFER_BYTES) ?? null);
    this.writeFd = write?.fd ?? null;
    this.writePath = write?.path ?? null;
  }

  /** Packets delivered so far. */
  get packets(): number {
    return this.parser.packets;
  }

  /**
   * Tees and parses buf[start, end). Throws CaptureFormatError if the stream is not pcap (a
   * backend bug) and PortsniffError(Io) if the --write file cannot be written.
   */
  push(bytes: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    const buf = plainBytes(bytes); // tcpdump's stdout hands out Buffers
    if (this.writeFd !== null) this.writeOut(buf, start, end);
    this.bytesIn += end - start;
    this.chunks.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /**
   * End of stream. A cut final record becomes the `truncated` warning; an empty stream (the
   * backend stopped before writing its file header) is not an error for a live capture.
   */
  finish(): void {
    if (this.bytesIn === 0) return;
    this.parser.finish(this.chunks.filled, this.parser.bytesConsumed);
  }

  /** The read result so far (info is a copy the caller may annotate). */
  result(): CaptureReadResult {
    const info: CaptureInfo = structuredClone(this.parser.info);
    const r: CaptureReadResult = {
      info,
      packets: this.parser.packets,
      bytesRead: this.bytesIn,
      skippedBlocks: this.parser.skippedBlocks,
    };
    if (this.parser.truncated !== undefined) r.truncated = this.parser.truncated;
    return r;
  }

  private writeOut(buf: Uint8Array, start: number, end: number): void {
    try {
      let off = start;
      while (off < end) off += fs.writeSync(this.writeFd!, buf, off, end - off);
    } catch (err) {
      throw new PortsniffError(ErrorCode.Io, `cannot write ${this.writePath}: ${errnoText(err)}`, { cause: err });
    }
  }
}

/**
 * The capture never started: close the --write file we created and remove it if it is still empty
 * (tcpdump -w would not have made one).
 */
export function discardWriteFile(fd: number, path: string): void {
  fs.closeSync(fd);
  try {
    if (fs.statSync(path).size === 0) fs.unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Opens the --write file (created or truncated) or says in one line why it cannot. */
export function openWriteFile(path: string): number {
  try {
    return fs.openSync(path, 'w');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : errnoText(err);
    throw new PortsniffError(ErrorCode.Io, `cannot create --write file ${path}: ${why}`, { cause: err });
  }
}
