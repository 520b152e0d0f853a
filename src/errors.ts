/**
 * Errors with stable codes (undici style). Packet bytes never produce these: they become anomaly
 * counts (src/util/anomaly.ts). These are for bad files, bad rules, bad usage and the environment.
 */
import type { CaptureReadResult } from './capture/types.js';

export const ErrorCode = {
  /** Capture file: magic number not pcap/pcapng. */
  BadMagic: 'PSN_ERR_BAD_MAGIC',
  /** Capture file: header fields that cannot be right (version, snaplen, block type order). */
  BadHeader: 'PSN_ERR_BAD_HEADER',
  /** Capture file: a record/block length that is impossible (too large, too small, not aligned). */
  BadRecordLength: 'PSN_ERR_BAD_RECORD_LENGTH',
  /** pcapng: the trailing block total length differs from the leading one. */
  BlockLengthMismatch: 'PSN_ERR_BLOCK_LENGTH_MISMATCH',
  /** The file ends in the middle of a record/block: packets before it are kept. */
  TruncatedFile: 'PSN_ERR_TRUNCATED_FILE',
  /** pcapng: a packet block names an interface with no IDB. */
  UnknownInterface: 'PSN_ERR_UNKNOWN_INTERFACE',
  /** gzip stream is corrupt. */
  Decompress: 'PSN_ERR_DECOMPRESS',
  /** File cannot be opened/read. */
  Io: 'PSN_ERR_IO',
  /** Rule files fail validation. */
  RuleFile: 'PSN_ERR_RULE_FILE',
  /** The --policy file fails validation. */
  PolicyFile: 'PSN_ERR_POLICY_FILE',
  /** Command-line usage. */
  Usage: 'PSN_ERR_USAGE',
  /** A worker thread died. */
  Worker: 'PSN_ERR_WORKER',
  /** Live capture could not start or failed. */
  Capture: 'PSN_ERR_CAPTURE',
  /** `portsniff proxy` could not start (a listener cannot bind: address in use, no permission). */
  Proxy: 'PSN_ERR_PROXY',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class PortsniffError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortsniffError';
    this.code = code;
  }
}

/** A capture file is broken at `offset` (byte offset in the decompressed stream). */
export class CaptureFormatError extends PortsniffError {
  readonly file: string;
  readonly offset: number;
  /**
   * What was read before the error (set by readCaptureFile): the packets before the bad record
   * were delivered, so a tool can report them and then the error.
   */
  partial?: CaptureReadResult;
  constructor(code: ErrorCodeValue, file: string, offset: number, detail: string) {
    super(code, `${file}: ${detail} at byte offset ${offset}`);
    this.name = 'CaptureFormatError';
    this.file = file;
    this.offset = offset;
  }
}

export class UsageError extends PortsniffError {
  constructor(message: string) {
    super(ErrorCode.Usage, message);
    this.name = 'UsageError';
  }
}

/** Plain shape that survives postMessage (class identity does not). */
export interface ErrorRecord {
  name: string;
  code: string;
  message: string;
  file?: string;
  offset?: number;
  stack?: string;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (err instanceof CaptureFormatError) {
    return { name: err.name, code: err.code, message: err.message, file: err.file, offset: err.offset };
  }
  if (err instanceof PortsniffError) return { name: err.name, code: err.code, message: err.message };
  if (err instanceof Error) {
    const rec: ErrorRecord = { name: err.name, code: 'PSN_ERR_INTERNAL', message: err.message };
    if (err.stack !== undefined) rec.stack = err.stack;
    return rec;
  }
  return { name: 'Error', code: 'PSN_ERR_INTERNAL', message: String(err) };
}

/**
 * The error a record describes, as the class it came from: CaptureFormatError (same message, file,
 * offset, and `partial` when given), PortsniffError (same code), or a plain Error. For errors that
 * crossed a thread boundary (a worker that reads the capture file itself), so that callers on this
 * side word and classify them exactly as they would the error thrown on their own thread.
 */
export function errorFromRecord(rec: ErrorRecord, partial?: CaptureReadResult | null): Error {
  const code = (Object.values(ErrorCode) as string[]).includes(rec.code) ? (rec.code as ErrorCodeValue) : null;
  let err: Error;
  if (rec.name === 'CaptureFormatError' && code !== null && rec.file !== undefined && rec.offset !== undefined) {
    const e = new CaptureFormatError(code, rec.file, rec.offset, '');
    e.message = rec.message;
    if (partial) e.partial = partial;
    err = e;
  } else if (code !== null) {
    err = new PortsniffError(code, rec.message);
    if (rec.name !== 'PortsniffError') err.name = rec.name;
  } else {
    err = new Error(rec.message);
    err.name = rec.name;
  }
  if (rec.stack !== undefined) err.stack = rec.stack;
  return err;
}
