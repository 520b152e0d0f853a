/**
 * What every capture reading loop shares (file, stream, and the worker pipeline's reading thread):
 * abort checks, yielding to the event loop, I/O error wording and the partial result attached to a
 * format error. Streams and gzip: capture-stream.ts.
 */
import { CaptureFormatError, ErrorCode, PortsniffError } from '../errors.js';
import type { CaptureParser } from './parser.js';
import type { CaptureReadResult } from './types.js';
import { errnoText } from '../util/errno.js';

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

export function ioError(op: 'open' | 'read', path: string, err: unknown): PortsniffError {
  const reason = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? 'no such file' : errnoText(err);
  return new PortsniffError(ErrorCode.Io, `cannot ${op} capture file ${path}: ${reason}`, { cause: err });
}

/**
 * The same bytes as a plain Uint8Array (a view, no copy) when `bytes` is a Buffer or another
 * subclass. Frames then always reach the decoders and recognisers in one array type: with two
 * (Buffer from streams, Uint8Array elsewhere) each of them deoptimizes once and stays polymorphic.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
