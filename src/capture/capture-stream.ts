/**
 * Capture bytes that arrive as a stream (stdin, a gzip file, tcpdump's stdout), for both reading
 * stacks: readCaptureStream (capture/file.ts) and the worker pipeline's reading thread
 * (pipeline/reader.ts). The one place that
 * - decides on decompression by content: the first two bytes 1f 8b (gzip magic), never the name;
 * - words read errors (ioError) and a corrupt gzip stream (PSN_ERR_DECOMPRESS), naming the input;
 * - turns a gzip stream that ends early into a clean end plus a warning (`cut`), which the caller
 *   reports as a truncated capture after the packets decompressed before it (reportGzipCut).
 */
import * as fs from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { nodeZlib } from '../util/builtins.js';
import { ErrorCode, PortsniffError } from '../errors.js';
import type { CaptureParser } from './parser.js';
import { pipeChunks, type PipeChunks, type PipeSource } from './pipe-reader.js';
import { isFifoPath, isPipe } from '../util/fifo.js';
import { nodeWorkerThreads } from '../util/builtins.js';
import { ioError } from './read-support.js';
import { PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './pcap-reader.js';
import { BT_SHB } from './pcapng-reader.js';

type Destroyable = { destroy?: (err?: Error) => void };

/** What a CaptureStream reads: a Node stream, or a pipe drained on its own thread (borrowed pieces). */
export type ByteStream = NodeJS.ReadableStream | PipeChunks;

/**
 * Bytes zlib inflates per output chunk (its default is 16 KiB). Each chunk is a thread-pool round
 * trip and a turn of the stream machinery: on a 1M-packet gzip capture (290 MB inflated) 16 KiB took
 * 3.2 s, 64 KiB 2.6 s, 256 KiB 2.4 s, 1 MiB 2.2 s, against 2.1 s for `zcat` alone (bench/README.md
 * "Streams: gzip and pipes").
 */
export const GUNZIP_CHUNK_BYTES = 1024 * 1024;

export class CaptureStream {
  /** Set when a gzip stream ended early: the warning to report once the packets are counted. */
  cut: string | null = null;
  /** Whether the bytes are being gunzipped (known after the first next()). */
  gzip = false;
  private it: AsyncIterator<Uint8Array>;
  private readonly raw: ByteStream & Destroyable;
  /** The input lends its pieces until the next one is asked for (PipeChunks): kept ones are copied. */
  private readonly borrowed: boolean;
  /** What stop() and close() destroy: the gunzip stream once there is one, else the input. */
  private active: Destroyable;
  private sniffed = false;
  private stopped = false;

  /** `name` is what messages call the input (a path, `<stdin>`). */
  constructor(stream: ByteStream, private readonly name: string) {
    this.raw = stream as ByteStream & Destroyable;
    this.borrowed = 'chunksAreBorrowed' in stream;
    this.active = this.raw;
    this.it = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }

  /**
   * The next piece of (decompressed) bytes; done at the end of the input, after stop(), or when a
   * gzip stream ends early (then `cut` says so). Throws a PortsniffError for a read error or a
   * corrupt gzip stream.
   */
  async next(): Promise<IteratorResult<Uint8Array>> {
    if (!this.sniffed) {
      this.sniffed = true;
      await this.sniff();
    }
    return this.pull();
  }

  /** Ends the iteration now (an abort): a pending or later next() resolves done. */
  stop(): void {
    this.stopped = true;
    this.close();
  }

  /** Releases the input (a file stream's descriptor) also when reading stopped before its end. */
  close(): void {
    this.active.destroy?.();
    if (this.active !== this.raw) this.raw.destroy?.();
  }

  private async pull(): Promise<IteratorResult<Uint8Array>> {
    try {
      return await this.it.next();
    } catch (err) {
      // stop() destroyed the stream under the iteration: a clean end.
      if (this.stopped) return { done: true, value: undefined };
      if (err instanceof PortsniffError) throw err;
      if (this.gzip && isZlibError(err)) {
        if ((err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
          // The gzip stream ends early: what was decompressed so far is still good.
          this.cut = `the gzip stream ends early (${(err as Error).message})`;
          return { done: true, value: undefined };
        }
        throw new PortsniffError(ErrorCode.Decompress, `cannot decompress ${this.name}: ${(err as Error).message}`, { cause: err });
      }
      throw ioError('read', this.name, err);
    }
  }

  /** Peeks at the first bytes for the gzip magic, then reads on through the same iterator. */
  private async sniff(): Promise<void> {
    const head: Uint8Array[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < 2) {
      const r = await this.pull();
      if (r.done === true) {
        ended = true;
        break;
      }
      // Kept across the next read: a borrowed piece would be given back under it.
      head.push(this.borrowed ? r.value.slice() : r.value);
      headLen += r.value.length;
    }
    this.gzip = isGzipHead(head);
    const rest = replayHead(head, ended || this.stopped, this.it);
    if (!this.gzip) {
      this.it = rest;
      return;
    }
    const gunzip = nodeZlib().createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    this.active = gunzip;
    // Errors of either side surface through the iteration of the gunzip stream.
    // zlib holds its input past the next read: borrowed pieces go in as copies.
    const out = pipeline(Readable.from(this.borrowed ? copies(rest) : rest), gunzip, () => {});
    this.it = (out as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }
}

/** Records a gzip stream's early end as the capture's truncation warning, unless one is set. */
export function reportGzipCut(parser: CaptureParser, cut: string | null): void {
  if (cut !== null && parser.truncated === undefined) parser.truncated = { offset: parser.bytesConsumed, message: cut };
}

/**
 * The stream '-' reads: `given` (default process.stdin), except that a pipe or FIFO on the process's
 * stdin is drained on a thread of its own (pipe-reader.ts), through a second descriptor of it.
 */
export function stdinStream(given: NodeJS.ReadableStream | undefined): ByteStream {
  const source = stdinPipeOf(given);
  return source === null ? (given ?? process.stdin) : pipeChunks(source);
}

/**
 * What a pipe thread reads for '-' when that is the process's stdin and a pipe or FIFO: the pipe
 * opened a second time, as `/proc/self/fd/0` (the bytes a writer that has gone already left are
 * still read, then the end). Null otherwise, or when that cannot be opened here (no /proc, no
 * permission): stdin is then read as the stream it is.
 */
export function stdinPipeOf(given: NodeJS.ReadableStream | undefined): PipeSource | null {
  if ((given ?? process.stdin) !== process.stdin || !isPipe(STDIN_FD)) return null;
  const path = '/proc/self/fd/0';
  try {
    fs.accessSync(path, fs.constants.R_OK);
  } catch {
    return null;
  }
  return { path };
}

const STDIN_FD = 0;

/**
 * What '-' reads when it is a regular file on the process's stdin (`replay - < capture.pcap`, read
 * by descriptor from where its offset stands, as readCaptureFile does): the bytes from that offset
 * to the end, for progress. Null for anything else, or a gzip file (its size says nothing).
 */
export function stdinFileBytes(given: NodeJS.ReadableStream | undefined): number | null {
  if ((given ?? process.stdin) !== process.stdin || !isRegularFile(STDIN_FD)) return null;
  try {
    const at = fileOffset(STDIN_FD);
    return isGzipFile(STDIN_FD, '/proc/self/fd/0', at) ? null : Math.max(0, fs.fstatSync(STDIN_FD).size - at);
  } catch {
    return null;
  }
}

/** The file offset of `fd` (Linux: /proc/self/fdinfo), 0 when it cannot be read. */
function fileOffset(fd: number): number {
  try {
    const m = /^pos:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** True when the file at `fd` has the gzip magic at offset `at` (default its start; the position is kept). */
export function isGzipFile(fd: number, path: string, at = 0): boolean {
  const head = new Uint8Array(2);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 2, at);
  } catch (err) {
    throw ioError('read', path, err);
  }
  return isGzipHead([head.subarray(0, n)]);
}

/**
 * The capture format a regular file at `path` starts with, or null (not a capture, not a regular
 * file, unreadable): output options refuse to overwrite a capture.
 */
export function captureFormatOf(path: string): 'pcap' | 'pcapng' | 'gzip' | null {
  const head = new Uint8Array(4);
  let n = 0;
  try {
    if (!fs.statSync(path).isFile()) return null;
    const fd = fs.openSync(path, 'r');
    try {
      n = fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
  if (n >= 2 && isGzipHead([head])) return 'gzip';
  if (n < 4) return null;
  const le = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
  const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (le === BT_SHB) return 'pcapng';
  for (const magic of [PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC]) if (le === magic || be === magic) return 'pcap';
  return null;
}

/** Whether `fd` is a regular file (false when it cannot be asked: it is then read as a stream, whose errors name the file). */
export function isRegularFile(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/**
 * Opens a capture file the way both readers do: a regular file's descriptor (read it by offset),
 * or a stream of its bytes for a gzip file (recognised by content, not name; CaptureStream
 * decompresses it) and for what is not a regular file: a FIFO, `<(command)`, a character device,
 * which cannot be read at an offset and may deliver bytes slowly (a FIFO is drained on a thread of
 * its own: pipe-reader.ts). Throws PortsniffError(Io) naming the file when it cannot be opened or
 * read.
 */
export function openCapturePath(path: string): { fd: number } | { stream: ByteStream } {
  // A FIFO (or a pipe named by /dev/fd/N) is opened by the thread that drains it, which waits
  // there for a writer, not on the thread that answers Ctrl-C. That thread is started from the main
  // thread only (pipe-reader.ts says why): a worker given no ring of one reads the FIFO as an fs stream.
  if (isFifoPath(path)) {
    if (!nodeWorkerThreads().isMainThread) return { stream: fs.createReadStream(path) };
    return { stream: pipeChunks({ path, openError: (err) => ioError('open', path, err) }) };
  }
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw ioError('open', path, err);
  }
  const regular = isRegularFile(fd);
  let gzip = false;
  try {
    if (regular) gzip = isGzipFile(fd, path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!regular) return { stream: fs.createReadStream('', { fd }) };
  if (!gzip) return { fd };
  fs.closeSync(fd);
  return { stream: fs.createReadStream(path) };
}

/** Byte `index` of the bytes held by `chunks` in order, or undefined past their end. */
function byteAt(chunks: readonly Uint8Array[], index: number): number | undefined {
  let i = index;
  for (const c of chunks) {
    if (i < c.length) return c[i];
    i -= c.length;
  }
  return undefined;
}

/** True when the first bytes read are a gzip header (1f 8b): decompression is chosen by content. */
function isGzipHead(head: readonly Uint8Array[]): boolean {
  return byteAt(head, 0) === 0x1f && byteAt(head, 1) === 0x8b;
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** The bytes already read to sniff the format, then the rest of the stream (unless it ended). */
async function* replayHead(head: readonly Uint8Array[], ended: boolean, it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const h of head) yield h;
  if (ended) return;
  for (;;) {
    const r = await it.next();
    if (r.done === true) return;
    yield r.value;
  }
}

/** Each piece of `pieces` as a copy of its own. */
async function* copies(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const p of pieces) yield p.slice();
}
