/**
 * Buffered, synchronous line output to a file descriptor. Synchronous on purpose: a signal handler
 * or an exiting process can always flush what was counted. A write that fails never throws: a
 * reader that went away (EPIPE), a terminal that hung up (EIO) or a failed write (a full disk,
 * ENOSPC; a quota, a file size limit, a disk error) closes the writer, says why, and tells its
 * owner, who stops the run and reports (cli/session.ts).
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { isFifoPath } from '../util/fifo.js';
import { PortsniffError, ErrorCode } from '../errors.js';
import { errnoText } from '../util/errno.js';

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
  /** Set when a write could not be made (see closedBy); later writes are dropped. */
  closed = false;
  /**
   * Why it closed: 'EPIPE' the reader went away; 'EIO' on a terminal, the terminal hung up
   * (runProcess then ends the way SIGHUP would); any other code, a write failed (see `failure`).
   */
  closedBy: string | null = null;
  /** A failed write's reason in words ("no space left on device"); null when the reader went away. */
  failure: string | null = null;
  /** Lines handed to the file: when a write fails, the lines it could not write are not counted. */
  linesWritten = 0;
  /** Called once, when the writer closes (closedBy says why). Set by whoever stops the run then. */
  onClosed: (() => void) | null;
  /** What it writes to, for messages: the path, or "stdout". */
  readonly name: string;
  /** The FIFO's path when openWhenRead opened one (its next reader can be waited for). */
  private fifoPath: string | null = null;
  /** Set by awaitNextReader: a FIFO whose reader left waits for the next one instead of closing. */
  private nextReader: { gone: () => void; back: (dropped: number) => void } | null = null;
  /** The FIFO has no reader now: lines are dropped (counted) until one opens it. */
  private readerless = false;
  private lastProbeMs = 0;
  /** Lines dropped while a FIFO had no reader (awaitNextReader). */
  linesDropped = 0;

  /** Closed because its reader went away (a pipe's or a hung-up terminal's), not by a failed write. */
  get readerGone(): boolean {
    return this.closed && this.failure === null;
  }

  /**
   * `target`: a path (opened here), a descriptor (not closed here), or a descriptor to own (closed
   * by close(); a FIFO's, from openWhenRead, with its path).
   */
  constructor(target: string | number | { ownFd: number; path: string }, onClosed: (() => void) | null = null) {
    this.onClosed = onClosed;
    if (typeof target === 'number') {
      this.fd = target;
      this.ownsFd = false;
      this.path = null;
      this.name = target === 1 ? 'stdout' : `descriptor ${target}`;
    } else if (typeof target === 'object') {
      this.fd = target.ownFd;
      this.ownsFd = true;
      this.path = null;
      this.name = target.path;
    } else {
      this.name = target;
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
        const writer = new LineWriter({ ownFd: LineWriter.open(path, 'w'), path });
        writer.fifoPath = path;
        return writer;
      } finally {
        closeSync(probe);
      }
    }
  }

  private static openError(path: string, err: unknown): PortsniffError {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such directory' : errnoText(e);
    return new PortsniffError(ErrorCode.Io, `cannot write ${path}: ${why}`);
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

  /**
   * For a FIFO (a long-running sensor's log shipper that restarts): when its reader leaves, do not
   * close; drop lines (counted in linesDropped) until a reader opens it again, then write on. `gone`
   * and `back` are told each time. Other writers close as usual.
   */
  awaitNextReader(gone: () => void, back: (dropped: number) => void): void {
    if (this.fifoPath !== null) this.nextReader = { gone, back };
  }

  /** Without a reader: true once a new one has the FIFO open (looked for at most every FIFO_POLL_MS). */
  private readerBack(): boolean {
    const now = Date.now();
    if (now - this.lastProbeMs < FIFO_POLL_MS) return false;
    this.lastProbeMs = now;
    let probe: number;
    try {
      probe = openSync(this.fifoPath!, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      return false; // ENXIO: still no reader (or the FIFO is gone: lines stay dropped)
    }
    try {
      this.fd = openSync(this.fifoPath!, 'w');
    } catch {
      return false;
    } finally {
      closeSync(probe);
    }
    this.readerless = false;
    this.nextReader!.back(this.linesDropped);
    return true;
  }

  /** One line: `line` holds no newline (text that spans lines goes through write(), which counts them). */
  writeLine(line: string): void {
    if (this.closed) return;
    if (this.readerless && !this.readerBack()) {
      this.linesDropped++;
      return;
    }
    this.append(line);
    if (this.closed) return;
    if (this.readerless) {
      // Its reader left while the buffer in front of it was written.
      this.linesDropped++;
      return;
    }
    // The newline always fits: append() left room for it.
    this.buf[this.used++] = 0x0a;
    this.linesWritten++;
    if (this.used >= FLUSH_AT - 1) this.flush();
  }

  /** Raw text (the text summary, help): its newlines count as lines too. */
  write(text: string): void {
    if (this.closed) return;
    // Counted before it is written: a failed write takes back the newlines it could not write.
    let lines = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    if (this.readerless && !this.readerBack()) {
      this.linesDropped += lines;
      return;
    }
    this.linesWritten += lines;
    if (!this.append(text)) {
      this.linesWritten -= lines;
      if (this.readerless) this.linesDropped += lines;
    }
    if (!this.closed && this.used >= FLUSH_AT - 1) this.flush();
  }

  /**
   * Encodes `text` into the buffer, flushing first when it might not fit (UTF-8 takes at most 3
   * bytes per UTF-16 unit), and leaves at least one byte free. Text larger than the buffer is
   * written at once. False when that first flush failed (or found no reader): the text went nowhere.
   */
  private append(text: string): boolean {
    const room = FLUSH_AT - 1 - this.used;
    if (text.length * 3 > room) {
      this.flush();
      if (this.closed || this.readerless) return false;
      if (text.length * 3 > FLUSH_AT - 1) {
        this.writeAll(Buffer.from(text, 'utf8'));
        return true;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
    return true;
  }

  flush(): void {
    // Without a reader nothing is buffered; a live session's periodic flush looks for the next one.
    if (this.readerless) this.readerBack();
    if (this.closed || this.readerless || this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  private writeAll(data: Buffer): void {
    if (this.closed || this.readerless) return;
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EAGAIN') continue; // non-blocking pipe full: retry
        this.fail(e, data.subarray(off));
        return;
      }
    }
  }

  /**
   * Closes the writer for `err` (a FIFO awaiting its next reader only closes its descriptor);
   * `unwritten`: the bytes it could not write (their lines are not counted as written).
   */
  private fail(err: NodeJS.ErrnoException, unwritten: Buffer): void {
    const code = err.code ?? 'EIO';
    let lost = 0;
    for (let i = 0; i < unwritten.length; i++) if (unwritten[i] === 0x0a) lost++;
    this.linesWritten -= lost;
    this.used = 0;
    if (code === 'EPIPE' && this.nextReader !== null) {
      // The FIFO's reader left: the next one gets the lines from when it comes.
      closeSync(this.fd);
      this.readerless = true;
      this.linesDropped += lost;
      this.nextReader.gone();
      return;
    }
    this.closed = true;
    this.closedBy = code;
    // EPIPE: the pipe's reader went away; EIO from a terminal: it hung up (ssh dropped, window
    // closed). On a file, EIO is the disk's error. (isatty() fails on a terminal that hung up.)
    const readerGone = code === 'EPIPE' || (code === 'EIO' && isCharacterDevice(this.fd));
    if (!readerGone) this.failure = errnoText(err);
    this.onClosed?.();
  }

  close(): void {
    this.flush();
    // Without a reader its descriptor is closed already.
    if (this.ownsFd && !this.readerless) closeSync(this.fd);
  }
}

function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}
