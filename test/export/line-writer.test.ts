/**
 * LineWriter: reopen() for logrotate (rename then reopen, or truncate in place), FIFOs, buffering,
 * and writes that fail (a full device, a reader gone) closing the writer instead of throwing.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/export/line-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'psn-linewriter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LineWriter.reopen', () => {
  it('after a rename, lines before go to the old file and lines after to a new one at the path', () => {
    const path = join(dir, 'flows.ndjson');
    const w = new LineWriter(path);
    w.writeLine('one');
    w.writeLine('two');
    renameSync(path, `${path}.1`);
    w.writeLine('three'); // still buffered: reopen() flushes it into the renamed file first
    w.reopen();
    w.writeLine('four');
    w.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('one\ntwo\nthree\n');
    expect(readFileSync(path, 'utf8')).toBe('four\n');
  });

  it('after copytruncate, appends instead of writing at the old offset', () => {
    const path = join(dir, 'alerts.ndjson');
    const w = new LineWriter(path);
    w.writeLine('x'.repeat(100));
    w.flush();
    truncateSync(path, 0);
    w.reopen();
    w.writeLine('after');
    w.close();
    expect(readFileSync(path, 'utf8')).toBe('after\n');
  });

  it('a path that can no longer be opened throws and keeps writing to the old file', () => {
    const sub = join(dir, 'gone');
    const path = join(dir, 'keep.ndjson');
    const w = new LineWriter(path);
    renameSync(path, `${path}.old`);
    rmSync(sub, { force: true });
    // Make the path a directory: opening it for writing fails.
    (w as unknown as { path: string }).path = dir;
    expect(() => w.reopen()).toThrow(/cannot write/);
    w.writeLine('still here');
    w.close();
    expect(readFileSync(`${path}.old`, 'utf8')).toBe('still here\n');
  });

  it('a writer on stdout-like descriptors only flushes', () => {
    const w = new LineWriter(join(dir, 'fd.txt'));
    const fdWriter = new LineWriter((w as unknown as { fd: number }).fd);
    fdWriter.writeLine('via fd');
    fdWriter.reopen();
    w.close();
    expect(readFileSync(join(dir, 'fd.txt'), 'utf8')).toBe('via fd\n');
  });

  it('a FIFO (or any file that is not a regular file) is not reopened: nothing to rotate, and opening one blocks until a reader comes', () => {
    const fifo = join(dir, 'flows.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const w = new LineWriter(fifo);
      w.writeLine('before');
      // A regular file at the path after a rename would be opened and written to; a FIFO is kept.
      renameSync(fifo, `${fifo}.old`);
      w.reopen();
      w.writeLine('after');
      w.flush();
      expect(existsSync(fifo)).toBe(false);
      const buf = Buffer.alloc(64);
      const n = readSync(reader, buf, 0, buf.length, null);
      expect(buf.subarray(0, n).toString('utf8')).toBe('before\nafter\n');
      w.close();
    } finally {
      closeSync(reader);
    }
  });
});

describe('LineWriter.openWhenRead: a FIFO is opened once it has a reader, and the wait can be stopped', () => {
  it('no reader: says it waits, and the signal ends the wait with an error naming the FIFO', async () => {
    const fifo = join(dir, 'unread.fifo');
    execFileSync('mkfifo', [fifo]);
    const ac = new AbortController();
    let waits = 0;
    const opening = LineWriter.openWhenRead(fifo, ac.signal, () => waits++);
    setTimeout(() => ac.abort(), 200);
    await expect(opening).rejects.toThrow(`cannot write ${fifo}: stopped while waiting for a reader of the FIFO`);
    expect(waits).toBe(1);
  });

  it('a reader that comes later gets every line, and never sees the FIFO without a writer', async () => {
    const fifo = join(dir, 'late.fifo');
    execFileSync('mkfifo', [fifo]);
    const opening = LineWriter.openWhenRead(fifo);
    await new Promise((r) => setTimeout(r, 120));
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const w = await opening;
      // The probe descriptor is closed by now: a reader would read the end if it had been the only writer.
      const buf = Buffer.alloc(64);
      expect(() => readSync(reader, buf, 0, buf.length, null)).toThrow(/EAGAIN/);
      w.writeLine('one');
      w.writeLine('two');
      w.flush();
      const n = readSync(reader, buf, 0, buf.length, null);
      expect(buf.subarray(0, n).toString('utf8')).toBe('one\ntwo\n');
      w.close();
      expect(readSync(reader, buf, 0, buf.length, null)).toBe(0);
    } finally {
      closeSync(reader);
    }
  });

  it('a regular file or a new path: opened at once', async () => {
    const path = join(dir, 'plain-when-read.ndjson');
    const w = await LineWriter.openWhenRead(path, undefined, () => {
      throw new Error('no wait for a regular file');
    });
    w.writeLine('x');
    w.close();
    expect(readFileSync(path, 'utf8')).toBe('x\n');
  });
});

describe('LineWriter buffering', () => {
  it('writes every byte in order: multi-byte text around the flush point, lines larger than the buffer, raw text', () => {
    const path = join(dir, 'bytes.ndjson');
    const w = new LineWriter(path);
    const expected: string[] = [];
    const put = (s: string) => {
      w.writeLine(s);
      expected.push(s, '\n');
    };
    for (let i = 0; i < 3000; i++) put(`${i} ${'é€😀'.repeat(i % 17)} ${'x'.repeat((i * 37) % 200)}`);
    put('y'.repeat(200_000));
    put('€'.repeat(30_000));
    w.write('no newline ');
    expected.push('no newline ');
    put('');
    put('after');
    w.close();
    expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
    expect(w.linesWritten).toBe(3000 + 4);
  });
});

describe('LineWriter: a write that fails closes the writer, says why and never throws', () => {
  it('a full device (/dev/full): closed by ENOSPC in words, onClosed once, no line counted, later writes dropped', () => {
    let calls = 0;
    const w = new LineWriter('/dev/full', () => calls++);
    w.writeLine('{"a":1}');
    w.write('two\nlines\n');
    expect(w.linesWritten).toBe(3); // handed to the buffer so far
    expect(() => w.flush()).not.toThrow();
    expect(w.closed).toBe(true);
    expect(w.closedBy).toBe('ENOSPC');
    expect(w.failure).toBe('no space left on device');
    expect(w.readerGone).toBe(false);
    expect(w.linesWritten).toBe(0); // none reached the file
    expect(w.name).toBe('/dev/full');
    w.writeLine('after');
    w.write('more\n');
    expect(() => w.close()).not.toThrow();
    expect(calls).toBe(1);
    expect(w.linesWritten).toBe(0);
  });

  it('text larger than the buffer, written at once, fails the same way', () => {
    const w = new LineWriter('/dev/full');
    w.write('x\n'.repeat(100_000));
    expect(w.closed).toBe(true);
    expect(w.failure).toBe('no space left on device');
    expect(w.linesWritten).toBe(0);
  });

  it('a pipe whose reader left: closed by EPIPE, readerGone, no failure; lines the pipe took are counted', () => {
    // The first line is read, then the reader closes: the second line meets EPIPE.
    const fifo = join(dir, 'gone.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let calls = 0;
    const w = new LineWriter({ ownFd: openSync(fifo, 'w'), path: fifo }, () => calls++);
    w.writeLine('first');
    w.flush();
    const got = Buffer.alloc(64);
    expect(readSync(reader, got, 0, 64, null)).toBe(6);
    closeSync(reader);
    w.writeLine('second');
    w.flush();
    expect(w.closed).toBe(true);
    expect(w.closedBy).toBe('EPIPE');
    expect(w.readerGone).toBe(true);
    expect(w.failure).toBeNull();
    expect(w.linesWritten).toBe(1);
    expect(w.name).toBe(fifo);
    expect(calls).toBe(1);
    w.close();
  });
});

describe('LineWriter.awaitNextReader: a FIFO whose reader restarts (a sensor\'s log shipper)', () => {
  it('lines are dropped and counted while no reader has it; the next reader gets the lines after it came', async () => {
    const fifo = join(dir, 'shipper.fifo');
    execFileSync('mkfifo', [fifo]);
    const first = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = await LineWriter.openWhenRead(fifo);
    const told: string[] = [];
    let closedCalls = 0;
    w.onClosed = () => closedCalls++;
    w.awaitNextReader(() => told.push('gone'), (n) => told.push(`back ${n}`));
    const read = (fd: number): string => {
      const b = Buffer.alloc(4096);
      const n = readSync(fd, b, 0, b.length, null);
      return b.subarray(0, n).toString('utf8');
    };
    w.writeLine('one');
    w.flush();
    expect(read(first)).toBe('one\n');
    closeSync(first);
    w.writeLine('two'); // buffered
    w.flush(); // EPIPE: the reader left
    expect(told).toEqual(['gone']);
    expect(w.closed).toBe(false);
    w.writeLine('three'); // no reader yet: dropped
    w.write('four\nfive\n');
    expect(w.linesDropped).toBe(4);
    const second = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    await new Promise((r) => setTimeout(r, 60)); // the writer looks for a reader at most every 50 ms
    w.writeLine('six');
    w.flush();
    expect(told).toEqual(['gone', 'back 4']);
    expect(read(second)).toBe('six\n');
    expect(w.linesWritten).toBe(2); // one, six
    expect(closedCalls).toBe(0);
    w.close();
    closeSync(second);
  });

  it('is for FIFOs it opened only: on a descriptor (stdout\'s pipe) a reader that left still closes the writer', () => {
    const fifo = join(dir, 'plain-pipe.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(fifo, 'w');
    const w = new LineWriter(fd);
    let gone = 0;
    w.awaitNextReader(() => gone++, () => {});
    closeSync(reader);
    w.writeLine('x');
    w.flush();
    expect(w.closed).toBe(true);
    expect(w.readerGone).toBe(true);
    expect(gone).toBe(0);
    closeSync(fd);
  });
});
