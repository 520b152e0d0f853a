/**
 * What every capture reading loop shares (file, stream, and the worker pipeline's reading thread):
 * gzip sniffing, abort checks, yielding to the event loop, I/O error wording and the partial result
 * attached to a format error.
 */
import { CaptureFormatError, ErrorCode, PortsniffError } from '../errors.js';
import type { CaptureParser } from './parser.js';
import type { CaptureReadResult } from './types.js';

export function byteAt(chunks: Uint8Array[], index: number): number | undefined {
  let i = index;
  for (const c of chunks) {
    if (i < c.length) return c[i];
    i -= c.length;
  }
  return undefined;
}

export function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** A function, so that TypeScript does not narrow `aborted` across awaits and callbacks. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}


export function resultOf(parser: CaptureParser, leftover: number, aborted: boolean): CaptureReadResult {
  const result: CaptureReadResult = {
    info: parser.info,
    packets: parser.packets,
    bytesRead: parser.bytesConsumed + leftover,
    skippedBlocks: parser.skippedBlocks,
  };
  if (parser.truncated !== undefined) result.truncated = parser.truncated;
  if (aborted) result.aborted = true;
  return result;
}

/** Attaches what was read before a format error, so the caller can report it. */
export function withPartial(err: unknown, parser: CaptureParser): unknown {
  if (err instanceof CaptureFormatError && err.partial === undefined) err.partial = resultOf(parser, 0, false);
  return err;
}

const IO_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
};

export function ioError(op: 'open' | 'read', path: string, err: unknown): PortsniffError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const reason = (code !== undefined && IO_REASONS[code]) || (err instanceof Error ? err.message : String(err));
  return new PortsniffError(ErrorCode.Io, `cannot ${op} capture file ${path}: ${reason}`, { cause: err });
}

/** True when the first bytes read are a gzip header (1f 8b): decompression is chosen by content. */
export function isGzipHead(head: Uint8Array[]): boolean {
  return byteAt(head, 0) === 0x1f && byteAt(head, 1) === 0x8b;
}

/** The bytes already read to sniff the format, then the rest of the stream (unless it ended). */
export async function* replayHead(head: Uint8Array[], ended: boolean, it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const h of head) yield h;
  if (ended) return;
  for (;;) {
    const r = await it.next();
    if (r.done === true) return;
    yield r.value;
  }
}

/**
 * The same bytes as a plain Uint8Array (a view, no copy) when `bytes` is a Buffer or another
 * subclass. Frames then always reach the decoders and recognisers in one array type: with two
 * (Buffer from streams, Uint8Array elsewhere) each of them deoptimizes once and stays polymorphic.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
