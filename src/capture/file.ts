/**
 * Reads a capture file (pcap or pcapng, optionally gzip-compressed) or stdin into a FrameSink.
 *
 * Regular files are read into two buffers in turn (DEFAULT_CHUNK_SIZE): while one is parsed, the
 * next chunk is read into the other on a libuv thread, so the kernel's copy runs beside the packet
 * loop (on a second core when there is one). The unconsumed tail of each chunk is put in front of
 * the next chunk's bytes; a record larger than that headroom is joined in a spill buffer that grows
 * to fit it. A regular file on stdin ('-' with `< capture.pcap`) is read the same way. Gzip files
 * (recognised by their 1f 8b magic, not their name), pipes and FIFOs (stdin too, also
 * gzip-sniffed) go through a CaptureStream (capture-stream.ts) that feeds the same CaptureParser.
 * The loop yields to the event loop between chunks, so an AbortSignal fired from a signal handler
 * (Ctrl-C during a replay) stops the read cleanly: the result comes back with `aborted: true`, not
 * as an error.
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { CaptureStream, isRegularFile, openCapturePath, reportGzipCut, stdinStream, type ByteStream } from './capture-stream.js';
import { CaptureParser } from './parser.js';
import { ringChunks, type PipeRing } from './pipe-reader.js';
import { ioError, isAborted, resultOf, withPartial, plainBytes } from './read-support.js';
import { StreamChunks } from './stream-chunks.js';
import type { CaptureReadResult, FrameSink } from './types.js';

/**
 * Read size of the in-process reader. Reads are double-buffered: the next chunk is read on a libuv
 * thread while this thread parses the current one, so the per-chunk cost is a thread-pool round
 * trip, not the copy, and larger chunks amortize it. 5M-packet reference capture, `replay --json`,
 * ratios to synchronous 256 KiB reads: 64 KiB 1.245 wall, 128 KiB 1.037, 512 KiB 0.933 (paired
 * `bench:ab --sequential`, 6-8 rounds); then all builds interleaved, 10 rounds, medians: 1 MiB
 * 0.954 wall / 1.089 CPU, 2 MiB 0.855 / 1.018, 4 MiB 0.858 / 1.028, 8 MiB 0.901 / 1.070.
 */
export const DEFAULT_CHUNK_SIZE = 2 * 1024 * 1024;
/** Name used in messages for '-'. */
export const STDIN_NAME = '<stdin>';

export interface ReadCaptureOptions {
  /**
   * Read size for regular files, and the initial buffer size (default DEFAULT_CHUNK_SIZE); for
   * streams, the largest piece parsed between two awaits of `gate` (default: as they come).
   */
  chunkSize?: number;
  /** Checked between chunks; when aborted, reading stops and the partial result is returned. */
  signal?: AbortSignal;
  /** Stream used for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Updated after every chunk: bytes of the capture stream consumed so far (progress, ETA). */
  progress?: { bytesRead: number };
  /** Awaited between chunks: pacing (`--speed`) and pause hold the read here. */
  gate?: () => Promise<void>;
  /**
   * Pacing: the bytes to read (a stream's: to parse) before the next `gate`, asked before each
   * read; at most `chunkSize` (Pacer.readBytes: a few milliseconds' worth at the replay's speed).
   */
  readSize?: () => number;
  /**
   * The ring of a pipe thread another thread started for `pathOrDash` (a FIFO or stdin's pipe):
   * read from it instead of opening the input here (pipe-reader.ts; `--workers 1`).
   */
  pipe?: PipeRing;
}

/**
 * Reads `pathOrDash` ('-' = stdin) and delivers every packet to `sink`, in file order.
 * Throws CaptureFormatError (with `partial` set to what was read before) for a broken file,
 * PortsniffError(Io) when the file cannot be opened or read, PortsniffError(Decompress) for a
 * corrupt gzip stream.
 */
export async function readCaptureFile(
  pathOrDash: string,
  sink: FrameSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureReadResult> {
  if (opts.pipe !== undefined) {
    const name = pathOrDash === '-' ? STDIN_NAME : pathOrDash;
    return readCaptureStream(ringChunks(opts.pipe, (err) => ioError('open', name, err)), name, sink, opts);
  }
  if (pathOrDash === '-') {
    const input = opts.stdin ?? process.stdin;
    // A regular file on stdin (`replay - < capture.pcap`) is read like a path, from where its
    // offset stands; a pipe or a terminal is a stream.
    if (input === process.stdin && isRegularFile(STDIN_FD)) return readFd(STDIN_FD, STDIN_NAME, sink, opts, false);
    return readCaptureStream(stdinStream(input), STDIN_NAME, sink, opts);
  }
  const path = pathOrDash;
  const opened = openCapturePath(path);
  if ('stream' in opened) return readCaptureStream(opened.stream, path, sink, opts);
  return readFd(opened.fd, path, sink, opts, true);
}

const STDIN_FD = 0;

/**
 * The read-ahead loop over a regular file's descriptor (closed at the end when `own`). A gzip file
 * reaches here only as stdin (a path's gzip is sniffed by openCapturePath): its first chunk, read
 * already, goes in front of the rest of the descriptor into the stream reader.
 */
async function readFd(fd: number, path: string, sink: FrameSink, opts: ReadCaptureOptions, own: boolean): Promise<CaptureReadResult> {
  const chunkSize = Math.max(64, Math.floor(opts.chunkSize ?? DEFAULT_CHUNK_SIZE));
  const headroom = Math.min(MAX_HEADROOM, chunkSize);
  // Two read buffers: while this thread parses one, a libuv thread copies the next chunk into the
  // other, so the kernel's copy is off this thread's path. Fresh bytes land after `headroom`, where
  // the previous buffer's unconsumed tail (a record cut by the chunk's end) is put in front of them.
  // Plain Uint8Arrays, not Buffers (see plainBytes).
  // The sink may hand out the buffers (the engine's fast path takes records only from its own memory).
  const ring = [0, 1].map(() => sink.readBuffer?.(headroom + chunkSize) ?? new Uint8Array(headroom + chunkSize));
  const readSize = opts.readSize;
  const nextReadBytes = readSize === undefined ? (): number => chunkSize : (): number => Math.min(chunkSize, Math.max(64, Math.floor(readSize())));
  let slot = 0;
  let buf: Uint8Array = ring[0]!;
  let start = headroom;
  let end: number;
  try {
    end = headroom + readSome(fd, buf, headroom, nextReadBytes(), path);
  } catch (err) {
    if (own) fs.closeSync(fd);
    throw err;
  }
  if (!own && end - start >= 2 && buf[start] === 0x1f && buf[start + 1] === 0x8b) {
    const first = buf.slice(start, end);
    return readCaptureStream(Readable.from(firstThenRest(first, fd)), path, sink, opts);
  }
  // Tails longer than the headroom (records larger than it) are joined here instead.
  let spill: Uint8Array | null = null;
  let eof = end === start;
  let pending: Promise<number> | null = null;

  const parser = new CaptureParser(sink, path);
  const signal = opts.signal;
  let aborted = false;
  try {
    for (;;) {
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      const next = ring[slot ^ 1]!;
      if (!eof) pending = readLater(fd, next, headroom, nextReadBytes(), path);
      if (end > start) {
        start += parser.feed(buf, start, end);
        if (opts.progress) opts.progress.bytesRead = parser.bytesConsumed;
      }
      if (pending === null) break;
      // Awaiting the read also lets timers and signal handlers run (and an abort land).
      const n = await pending;
      pending = null;
      if (opts.gate) await opts.gate();
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      if (n === 0) {
        eof = true;
        break;
      }
      const tail = end - start;
      if (tail <= headroom) {
        if (tail > 0) next.set(buf.subarray(start, end), headroom - tail);
        buf = next;
        slot ^= 1;
        start = headroom - tail;
        end = headroom + n;
      } else {
        // One record is larger than the headroom: join its bytes with the fresh ones in `spill`,
        // grown to what the parser asks for (it has checked that length against its maximum).
        const need = Math.max(tail + n, parser.needBytes);
        if (buf === spill) {
          if (spill.length < tail + n) spill = grownCopy(spill, start, end, Math.max(need, spill.length * 2));
          else spill.copyWithin(0, start, end);
        } else {
          if (spill === null || spill.length < tail + n) spill = new Uint8Array(Math.max(need, 2 * (headroom + chunkSize)));
          spill.set(buf.subarray(start, end), 0);
        }
        spill.set(next.subarray(headroom, headroom + n), tail);
        buf = spill;
        start = 0;
        end = tail + n;
      }
    }
    if (!aborted) parser.finish(end - start, parser.bytesConsumed);
  } catch (err) {
    throw withPartial(err, parser);
  } finally {
    // The fd must outlive a read still in flight (after a format error): its number could be reused.
    if (pending !== null) await pending.catch(() => 0);
    if (own) fs.closeSync(fd);
  }
  return resultOf(parser, aborted ? 0 : end - start, aborted);
}

/** `first`, then the rest of `fd` from its current offset (the descriptor stays open). */
async function* firstThenRest(first: Uint8Array, fd: number): AsyncGenerator<Uint8Array> {
  yield first;
  yield* fs.createReadStream('', { fd, autoClose: false, highWaterMark: DEFAULT_CHUNK_SIZE }) as AsyncIterable<Uint8Array>;
}

/** Largest unconsumed tail carried in front of the next chunk without a copy into `spill`. */
const MAX_HEADROOM = 64 * 1024;

/** Bytes of each of the two buffers a regular file is read into, at the default chunk size. */
export const READ_BUFFER_BYTES = Math.min(MAX_HEADROOM, DEFAULT_CHUNK_SIZE) + DEFAULT_CHUNK_SIZE;

function grownCopy(from: Uint8Array, start: number, end: number, size: number): Uint8Array {
  const bigger = new Uint8Array(size);
  bigger.set(from.subarray(start, end), 0);
  return bigger;
}

/**
 * Reads a capture from a stream (stdin, a socket, a file stream); gzip is detected from the
 * first two bytes and decompressed on the fly (CaptureStream). `name` is used in messages.
 */
export async function readCaptureStream(
  stream: ByteStream,
  name: string,
  sink: FrameSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureReadResult> {
  const parser = new CaptureParser(sink, name);
  const input = new CaptureStream(stream, name);
  const signal = opts.signal;
  // The sink's buffer, when it hands one out (stream-chunks.ts).
  const chunks = new StreamChunks(parser, sink.readBuffer?.(READ_BUFFER_BYTES) ?? null);
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    input.stop();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (isAborted(signal)) aborted = true;
    // A chunk size asked for (pacing: a few ms' worth, readSize) splits larger pieces: the gate then
    // holds the records of each slice, not of a whole piece (a pipe's reach 1 MiB, a gzip's 1 MiB).
    const maxSlice = opts.chunkSize === undefined ? Infinity : Math.max(64, Math.floor(opts.chunkSize));
    const readSize = opts.readSize;
    while (!aborted) {
      const r = await input.next();
      if (r.done === true) break;
      // Streams hand out Buffers: parse through a plain view of the same bytes (see plainBytes).
      const bytes = plainBytes(r.value);
      for (let at = 0, slice = 0; at < bytes.length && !aborted; at += slice) {
        slice = readSize === undefined ? maxSlice : Math.min(maxSlice, Math.max(64, Math.floor(readSize())));
        chunks.push(at === 0 && bytes.length <= slice ? bytes : bytes.subarray(at, at + slice));
        if (opts.progress) opts.progress.bytesRead = parser.bytesConsumed;
        if (opts.gate) await opts.gate();
        if (isAborted(signal)) aborted = true;
      }
    }
    if (!aborted) {
      parser.finish(chunks.filled, parser.bytesConsumed);
      reportGzipCut(parser, input.cut);
    }
  } catch (err) {
    throw withPartial(err, parser);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    input.close();
  }
  return resultOf(parser, aborted ? 0 : chunks.filled, aborted);
}

function readSome(fd: number, buf: Uint8Array, offset: number, length: number, path: string): number {
  try {
    return fs.readSync(fd, buf, offset, length, null);
  } catch (err) {
    throw ioError('read', path, err);
  }
}

/** An fs.read on the libuv thread pool, at the file's current position (one read in flight at a time). */
function readLater(fd: number, buf: Uint8Array, offset: number, length: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, offset, length, null, (err, n) => (err === null ? resolve(n) : reject(ioError('read', path, err))));
  });
}
