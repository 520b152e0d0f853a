/**
 * The reading thread of the worker pipeline: reads a capture into shared chunks and walks its
 * records, nothing more (no decoding).
 *
 * Regular files are read with readSync straight into a chunk's shared buffer (no copy); gzip files
 * and stdin are streamed and their pieces copied into chunks. The CaptureParser runs over the chunk
 * in place with an index sink that writes each record's position, lengths, time and link type into
 * the chunk's index; then the chunk goes to every worker. A record cut by the end of a chunk is
 * moved to the start of the next one (as capture/file.ts does with its tail), and a record larger
 * than a chunk gets a larger chunk. Gzip detection, read and decompression errors and the warning
 * for a gzip stream cut short come from the same code as readCaptureFile's (capture-stream.ts), so
 * messages, truncation warnings and `partial` on CaptureFormatError are the same.
 */
import * as fs from 'node:fs';
import { CaptureParser } from '../capture/parser.js';
import { CaptureStream, openCapturePath, reportGzipCut, stdinStream, type ByteStream } from '../capture/capture-stream.js';
import { ioError, isAborted, resultOf, withPartial, yieldToEventLoop } from '../capture/read-support.js';
import { STDIN_NAME } from '../capture/file.js';
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import type { ChunkView } from './chunks.js';
import { DEFAULT_TUNNEL_PORTS, pairBucketOf } from './shard.js';

/** What the reader needs from the pipeline: chunks to fill and a way to hand them over. */
export interface ChunkHost {
  /** Default chunk size. */
  readonly chunkSize: number;
  /** A free chunk of at least `minSize` bytes (waits while all are in use; throws if the pipeline failed). */
  acquire(minSize: number): Promise<ChunkView>;
  /** Hands records [0, count) of a chunk to the workers (count > 0). */
  dispatch(chunk: ChunkView, count: number): void;
  /** Gives back a chunk that holds no record. */
  release(chunk: ChunkView): void;
  /** UDP tunnel ports of the run's decapsulation options (pairBucketOf); default: the default options'. */
  readonly tunnelPorts?: Uint8Array | null;
  /** False: one worker owns every record, so the reader computes no host-pair buckets (default true). */
  readonly shards?: boolean;
}

export interface ReadIntoChunksOptions {
  signal?: AbortSignal | undefined;
  /** Stream read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Updated after every chunk: bytes of the capture stream consumed so far. */
  progress?: { bytesRead: number } | undefined;
  /** Awaited between chunks (pause). */
  gate?: (() => Promise<void>) | undefined;
  /** A partly filled stream chunk is handed over after this many ms without new bytes (default 20). */
  streamFlushMs?: number;
}

/** Writes record descriptions (and host-pair buckets) into the current chunk's index. */
class IndexSink implements FrameSink {
  private chunk: ChunkView | null = null;
  count = 0;

  /** `shards` false: no buckets (bucket 0 for every record; a single worker owns them all). */
  constructor(
    private readonly tunnelPorts: Uint8Array | null,
    private readonly shards: boolean,
  ) {}

  reset(chunk: ChunkView): void {
    this.chunk = chunk;
    this.count = 0;
  }

  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number): void {
    // The record's bytes were just read and are in this core's cache: cheap here, not in a worker.
    const bucket = this.shards ? pairBucketOf(buf, offset, capLen, linkType, this.tunnelPorts) : 0;
    this.chunk!.put(this.count++, offset, capLen, origLen, tsSec, tsNsec, linkType, bucket);
  }
}

/** Source of bytes for the chunk loop: fills buf[offset, offset + max). */
interface ByteSource {
  /**
   * Bytes copied (0 = end of input). With `wait` false it may return -1 when nothing is buffered
   * right now (streams), so that the reader can hand over what it has before waiting.
   */
  fill(buf: Uint8Array, offset: number, max: number, wait: boolean): number | Promise<number>;
  close(): void;
  /** A warning to report at the end (a gzip stream cut short). */
  cut: string | null;
}

export async function readIntoChunks(pathOrDash: string, host: ChunkHost, opts: ReadIntoChunksOptions = {}): Promise<CaptureReadResult> {
  if (pathOrDash === '-') return readStream(stdinStream(opts.stdin), STDIN_NAME, host, opts);
  const path = pathOrDash;
  const opened = openCapturePath(path);
  if ('stream' in opened) return readStream(opened.stream, path, host, opts);
  const fd = opened.fd;
  const source: ByteSource = {
    cut: null,
    fill: (buf, offset, max) => {
      try {
        return fs.readSync(fd, buf, offset, max, null);
      } catch (err) {
        throw ioError('read', path, err);
      }
    },
    close: () => fs.closeSync(fd),
  };
  return readChunks(source, path, host, opts.signal, opts.progress, opts.gate);
}

async function readStream(stream: ByteStream, name: string, host: ChunkHost, opts: ReadIntoChunksOptions): Promise<CaptureReadResult> {
  const flushMs = opts.streamFlushMs ?? 20;
  const input = new CaptureStream(stream, name);
  let piece: Uint8Array | null = null;
  let pieceOff = 0;
  let done = false;
  let pending: Promise<IteratorResult<Uint8Array>> | null = null;
  const source: ByteSource = {
    cut: null,
    fill: async (buf, offset, max, wait) => {
      let copied = 0;
      while (copied < max) {
        if (piece !== null && pieceOff < piece.length) {
          const n = Math.min(max - copied, piece.length - pieceOff);
          buf.set(n === piece.length && pieceOff === 0 ? piece : piece.subarray(pieceOff, pieceOff + n), offset + copied);
          pieceOff += n;
          copied += n;
          continue;
        }
        if (done) break;
        pending ??= input.next();
        if (copied > 0 || !wait) {
          // Something to hand over already: wait for more only briefly.
          const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), copied > 0 || !wait ? flushMs : 0).unref());
          const r = await Promise.race([pending, timer]);
          if (r === null) return copied > 0 ? copied : -1;
        }
        const r = await pending;
        pending = null;
        if (r.done === true) {
          done = true;
          source.cut = input.cut;
          break;
        }
        piece = r.value;
        pieceOff = 0;
      }
      return copied;
    },
    close: () => input.close(),
  };
  // An abort must also end a wait for bytes that may never come (an idle stdin).
  const signal = opts.signal;
  const onAbort = (): void => input.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await readChunks(source, name, host, signal, opts.progress, opts.gate);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The chunk loop shared by files and streams. */
async function readChunks(
  source: ByteSource,
  name: string,
  host: ChunkHost,
  signal: AbortSignal | undefined,
  progress: { bytesRead: number } | undefined,
  gate: (() => Promise<void>) | undefined,
): Promise<CaptureReadResult> {
  const sink = new IndexSink(host.tunnelPorts === undefined ? DEFAULT_TUNNEL_PORTS : host.tunnelPorts, host.shards !== false);
  const parser = new CaptureParser(sink, name);
  let chunk: ChunkView | null = null;
  let filled = 0;
  let aborted = false;
  let carry = new Uint8Array(64 * 1024);
  try {
    chunk = await host.acquire(host.chunkSize);
    for (;;) {
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      let eof = false;
      let n = 0;
      // Fill the chunk (files: to the brim; streams: until the input pauses).
      while (filled < chunk.size) {
        const r = source.fill(chunk.u8, filled, chunk.size - filled, filled === 0);
        n = typeof r === 'number' ? r : await r;
        if (n === 0) {
          eof = true;
          break;
        }
        if (n < 0) break;
        filled += n;
      }
      if (isAborted(signal)) {
        aborted = true;
        break;
      }
      sink.reset(chunk);
      let used: number;
      try {
        used = filled > 0 ? parser.feed(chunk.u8, 0, filled) : 0;
      } catch (err) {
        // The records before the bad one were delivered: they still go to the workers.
        if (sink.count > 0) host.dispatch(chunk, sink.count);
        else host.release(chunk);
        chunk = null;
        throw err;
      }
      const tail = filled - used;
      if (progress !== undefined) progress.bytesRead = parser.bytesConsumed;
      if (eof) {
        if (sink.count > 0) host.dispatch(chunk, sink.count);
        else host.release(chunk);
        chunk = null;
        filled = tail;
        parser.finish(tail, parser.bytesConsumed);
        reportGzipCut(parser, source.cut);
        break;
      }
      if (used === 0 && tail < chunk.size) continue; // a stream paused inside the first record: read on
      // The cut record's bytes move to the start of the next chunk, which must hold it whole. They
      // are set aside first, so that this chunk goes to the workers before the reader waits for
      // another: every chunk of the pool can be in flight.
      if (tail > 0) {
        if (carry.length < tail) carry = new Uint8Array(Math.max(tail, carry.length * 2));
        carry.set(chunk.u8.subarray(used, filled), 0);
      }
      if (sink.count > 0) host.dispatch(chunk, sink.count);
      else host.release(chunk);
      chunk = null;
      const next = await host.acquire(Math.max(host.chunkSize, parser.needBytes, tail + 1));
      chunk = next;
      if (tail > 0) next.u8.set(tail === carry.length ? carry : carry.subarray(0, tail), 0);
      filled = tail;
      // Let worker messages, timers and signal handlers run between chunks.
      await yieldToEventLoop();
      if (gate !== undefined) await gate();
    }
  } catch (err) {
    throw withPartial(err, parser);
  } finally {
    if (chunk !== null) host.release(chunk);
    source.close();
  }
  return resultOf(parser, aborted ? 0 : filled, aborted);
}
