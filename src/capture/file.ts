/**
 * Reads a capture file (pcap or pcapng, optionally gzip-compressed) or stdin into a FrameSink.
 *
 * Regular files are read synchronously into one reused buffer (DEFAULT_CHUNK_SIZE); the unconsumed
 * tail of each chunk moves to the front and the buffer grows only when a single record is larger
 * than it. Gzip files (recognised by their 1f 8b magic, not their name) and stdin ('-', also
 * gzip-sniffed) go through a CaptureStream (capture-stream.ts) that feeds the same CaptureParser.
 * The loop yields to the event loop between chunks, so an AbortSignal fired from a signal handler
 * (Ctrl-C during a replay) stops the read cleanly: the result comes back with `aborted: true`, not
 * as an error.
 */
import * as fs from 'node:fs';
import { CaptureStream, openCapturePath, reportGzipCut } from './capture-stream.js';
import { CaptureParser } from './parser.js';
import { ioError, isAborted, resultOf, withPartial, yieldToEventLoop, plainBytes } from './read-support.js';
import type { CaptureReadResult, FrameSink } from './types.js';

/**
 * Read size of the in-process reader. 256 KiB rather than 1 MiB: each read's kernel copy passes
 * through the core's 1 MiB L2, and a smaller one leaves the flow index and hot flow rows there.
 * Measured on the 5M-packet reference capture, 18 interleaved runs of `replay --json --workers 0`:
 * 256 KiB faster in 12, medians 2.15-2.17 s against 2.29-2.59 s; 128 KiB was no better than 1 MiB.
 */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Name used in messages for '-'. */
export const STDIN_NAME = '<stdin>';

export interface ReadCaptureOptions {
  /** Read size for regular files, and the initial buffer size (default DEFAULT_CHUNK_SIZE). */
  chunkSize?: number;
  /** Checked between chunks; when aborted, reading stops and the partial result is returned. */
  signal?: AbortSignal;
  /** Stream used for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Updated after every chunk: bytes of the capture stream consumed so far (progress, ETA). */
  progress?: { bytesRead: number };
  /** Awaited between chunks: pacing (`--speed`) and pause hold the read here. */
  gate?: () => Promise<void>;
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
  if (pathOrDash === '-') {
    return readCaptureStream(opts.stdin ?? process.stdin, STDIN_NAME, sink, opts);
  }
  const path = pathOrDash;
  const opened = openCapturePath(path);
  if ('gzipStream' in opened) return readCaptureStream(opened.gzipStream, path, sink, opts);
  const fd = opened.fd;
  const chunkSize = Math.max(64, Math.floor(opts.chunkSize ?? DEFAULT_CHUNK_SIZE));
  // A plain Uint8Array, not a Buffer (see plainBytes).
  let buf = new Uint8Array(chunkSize);
  let filled: number;
  try {
    filled = readSome(fd, buf, 0, path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }

  const parser = new CaptureParser(sink, path);
  const signal = opts.signal;
  let aborted = false;
  try {
    for (;;) {
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      if (filled > 0) {
        const used = parser.feed(buf, 0, filled);
        if (used > 0) {
          buf.copyWithin(0, used, filled);
          filled -= used;
        }
        if (opts.progress) opts.progress.bytesRead = parser.bytesConsumed;
      }
      // Let timers and signal handlers run (and an abort land) between chunks.
      await yieldToEventLoop();
      if (opts.gate) await opts.gate();
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      if (filled === buf.length) {
        // One record is larger than the buffer: grow to what the parser asks for (the parser
        // has already checked that length against its maximum).
        const bigger = new Uint8Array(Math.max(parser.needBytes, buf.length * 2));
        bigger.set(buf.subarray(0, filled));
        buf = bigger;
      }
      const n = readSome(fd, buf, filled, path);
      if (n === 0) break;
      filled += n;
    }
    if (!aborted) parser.finish(filled, parser.bytesConsumed);
  } catch (err) {
    throw withPartial(err, parser);
  } finally {
    fs.closeSync(fd);
  }
  return resultOf(parser, aborted ? 0 : filled, aborted);
}

/**
 * Reads a capture from a stream (stdin, a socket, a file stream); gzip is detected from the
 * first two bytes and decompressed on the fly (CaptureStream). `name` is used in messages.
 */
export async function readCaptureStream(
  stream: NodeJS.ReadableStream,
  name: string,
  sink: FrameSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureReadResult> {
  const parser = new CaptureParser(sink, name);
  const input = new CaptureStream(stream, name);
  const signal = opts.signal;
  let buf = new Uint8Array(0);
  let filled = 0;
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    input.stop();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (isAborted(signal)) aborted = true;
    while (!aborted) {
      const r = await input.next();
      if (r.done === true) break;
      // Streams hand out Buffers: parse through a plain view of the same bytes (see plainBytes).
      const chunk = plainBytes(r.value);
      if (filled === 0) {
        // Zero-copy: parse straight out of the stream's chunk, keep only the tail.
        const used = parser.feed(chunk, 0, chunk.length);
        const tail = chunk.length - used;
        if (tail > 0) {
          if (buf.length < tail) buf = new Uint8Array(Math.max(tail, DEFAULT_CHUNK_SIZE));
          buf.set(chunk.subarray(used), 0);
          filled = tail;
        }
      } else {
        if (buf.length < filled + chunk.length) {
          const bigger = new Uint8Array(Math.max(filled + chunk.length, buf.length * 2));
          bigger.set(buf.subarray(0, filled), 0);
          buf = bigger;
        }
        buf.set(chunk, filled);
        filled += chunk.length;
        const used = parser.feed(buf, 0, filled);
        if (used > 0) {
          buf.copyWithin(0, used, filled);
          filled -= used;
        }
      }
      if (opts.progress) opts.progress.bytesRead = parser.bytesConsumed;
      if (opts.gate) await opts.gate();
      if (isAborted(signal)) aborted = true;
    }
    if (!aborted) {
      parser.finish(filled, parser.bytesConsumed);
      reportGzipCut(parser, input.cut);
    }
  } catch (err) {
    throw withPartial(err, parser);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    input.close();
  }
  return resultOf(parser, aborted ? 0 : filled, aborted);
}

function readSome(fd: number, buf: Uint8Array, offset: number, path: string): number {
  try {
    return fs.readSync(fd, buf, offset, buf.length - offset, null);
  } catch (err) {
    throw ioError('read', path, err);
  }
}
