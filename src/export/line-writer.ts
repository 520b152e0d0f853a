/**
 * Buffered, synchronous line output to a file descriptor. Synchronous on purpose: a signal handler
 * or an exiting process can always flush what was counted, and a reader on the other end of a
 * closed pipe (EPIPE) or a terminal that hung up (EIO) marks the writer closed instead of crashing
 * the run.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { isFifoPath } from '../util/fifo.js';
import { PortsniffError, ErrorCode } from '../errors.js';

const FLUSH_AT = 64 * 1024;
/** How often openWhenRead looks for a reader of a FIFO. */
const FIFO_POLL_MS = 50;

export class LineWriter {
  /** Bytes not yet written: lines are encoded straight into this buffer (no joined string, no new Buffer per flush). */
  private readonly buf = Buffer.allocUnsafe(FLUSH_AT);
  private used = 0;
  private fd: number;
  private readonly ownsFd: boolean;
  /** The file's path when the writer opened a regular file there (reopen() opens it again). */
  private readonly path: string | null;
  /** Set when the reader went away (EPIPE, or EIO from a hung-up terminal); later writes are dropped. */
  closed = false;
  /** Why it closed: 'EIO' means the terminal hung up (runProcess then ends the way SIGHUP would). */
  closedBy: 'EPIPE' | 'EIO' | null = null;
  linesWritten = 0;

  /**
   * `target`: a path (opened here), a descriptor (not closed here), or a descriptor to own (closed
   * by close(); a FIFO's, from openWhenRead). `onClosed`: called once, when the reader goes away (EPIPE).
   */
  constructor(target: string | number | { ownFd: number }, private readonly onClosed: (() => void) | null = null) {
    if (typeof target === 'number') {
      this.fd = target;
      this.ownsFd = false;
      this.path = null;
    } else if (typeof target === 'object') {
      this.fd = target.ownFd;
      this.ownsFd = true;
      this.path = null;
    } else {
      this.fd = LineWriter.open(target, 'w');
      this.ownsFd = true;
      // A FIFO or a device has nothing to rotate, and opening a FIFO again would block until a
      // reader comes (a SIGHUP from a closed terminal must not hang the run's end).
      this.path = fstatSync(this.fd).isFile() ? target : null;
    }
  }

  /**
   * A writer for `path`. A FIFO is opened once a reader has it open: a plain open would wait in
   * the kernel, where Ctrl-C cannot reach the run; here the wait is a check every
   * FIFO_POLL_MS, `onWait` is called once when it starts, and `signal` ends it (PortsniffError).
   */
  static async openWhenRead(path: string, signal?: AbortSignal, onWait?: () => void): Promise<LineWriter> {
    if (!isFifoPath(path)) return new LineWriter(path);
    let waiting = false;
    for (;;) {
      let probe: number;
      try {
        probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw LineWriter.openError(path, err);
        // ENXIO: no reader yet.
        if (!waiting) onWait?.();
        waiting = true;
        if (signal?.aborted === true) throw new PortsniffError(ErrorCode.Io, `cannot write ${path}: stopped while waiting for a reader of the FIFO`);
        await new Promise((resolve) => setTimeout(resolve, FIFO_POLL_MS));
        continue;
      }
      // A reader is there: the blocking descriptor opens at once. The probe closes after it, so the
      // reader never sees the FIFO without a writer (it would read the end).
      try {
        return new LineWriter({ ownFd: LineWriter.open(path, 'w') });
      } finally {
        closeSync(probe);
      }
    }
  }

  private static openError(path: string, err: unknown): PortsniffError {
    const e = err as NodeJS.ErrnoException;
    return new PortsniffError(ErrorCode.Io, `cannot write ${path}: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }

  private static open(path: string, flags: 'w' | 'a'): number {
    try {
      return openSync(path, flags);
    } catch (err) {
      throw LineWriter.openError(path, err);
    }
  }

  /**
   * For logrotate (SIGHUP): flushes, closes the file and opens its path again, appending (a file
   * moved away leaves a new one at the path; a file truncated in place is appended to). A writer on
   * a descriptor it did not open (stdout), or on a FIFO or device, only flushes. Throws PortsniffError when the path cannot
   * be opened; the old descriptor is then kept.
   */
  reopen(): void {
    this.flush();
    if (!this.ownsFd || this.path === null || this.closed) return;
    const next = LineWriter.open(this.path, 'a');
    closeSync(this.fd);
    this.fd = next;
  }

  writeLine(line: string): void {
    if (this.closed) return;
    this.append(line);
    if (this.closed) return;
    // The newline always fits: append() left room for it.
    this.buf[this.used++] = 0x0a;
    this.linesWritten++;
    if (this.used >= FLUSH_AT - 1) this.flush();
  }

  write(text: string): void {
    if (this.closed) return;
    this.append(text);
    if (this.used >= FLUSH_AT - 1) this.flush();
  }

  /**
   * Encodes `text` into the buffer, flushing first when it might not fit (UTF-8 takes at most 3
   * bytes per UTF-16 unit), and leaves at least one byte free. Text larger than the buffer is
   * written at once.
   */
  private append(text: string): void {
    const room = FLUSH_AT - 1 - this.used;
    if (text.length * 3 > room) {
      this.flush();
      if (text.length * 3 > FLUSH_AT - 1) {
        this.writeAll(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  flush(): void {
    if (this.closed || this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  private writeAll(data: Buffer): void {
    if (this.closed) return;
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // non-blocking pipe full: retry
        // EPIPE: the pipe's reader went away; EIO: the terminal hung up (ssh dropped, window closed).
        if (code === 'EPIPE' || code === 'EIO') {
          this.closed = true;
          this.closedBy = code;
          this.onClosed?.();
          return;
        }
        throw err;
      }
    }
  }

  close(): void {
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}
