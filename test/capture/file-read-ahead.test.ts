/**
 * readCaptureFile reads a plain file one chunk ahead: the next chunk's read is on the libuv thread
 * pool while the current one is parsed, and the descriptor is closed only after a read in flight
 * has ended (even when parsing failed). node:fs is wrapped to log the order of reads, parses and
 * the close.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaptureFormatError, ErrorCode, PortsniffError } from '../../src/errors.js';
import { readCaptureFile } from '../../src/capture/file.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { CollectingSink, packet } from './helpers.js';

const events = vi.hoisted(() => [] as string[]);
/** The read (1-based, counting fs.read calls) that fails with EIO; 0: none. */
const failing = vi.hoisted(() => ({ at: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const read = ((fd: number, buf: Uint8Array, offset: number, length: number, position: null, cb: (err: Error | null, n: number) => void) => {
    events.push('read');
    if (failing.at > 0 && events.filter((e) => e === 'read').length === failing.at) {
      const err = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      setImmediate(() => {
        events.push('read-failed');
        cb(err, 0);
      });
      return;
    }
    actual.read(fd, buf, offset, length, position, (err, n) => {
      events.push(`read-done ${n}`);
      cb(err, n);
    });
  }) as unknown as typeof actual.read;
  const closeSync = (fd: number): void => {
    events.push('close');
    actual.closeSync(fd);
  };
  return { ...actual, read, closeSync, default: { ...actual, read, closeSync } };
});

// Imported after the mock is in place (vi.mock is hoisted above the imports).
const fs = await import('node:fs');

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portsniff-read-ahead-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  events.length = 0;
  failing.at = 0;
});

/** 60 records of 116 bytes each (16-byte header + 100 bytes). */
const CAPTURE = buildPcap(Array.from({ length: 60 }, (_, i) => ({ tsSec: i, data: packet(100, i) })));

/** A sink that logs where each chunk's parsing ended. */
function loggingSink(): CollectingSink {
  const sink = new CollectingSink();
  const flush = sink.flushChunk.bind(sink);
  sink.flushChunk = (buf, start, end) => {
    events.push('parsed');
    flush(buf, start, end);
  };
  return sink;
}

describe('readCaptureFile: reading one chunk ahead', () => {
  it('issues the next read before it parses the current chunk, and delivers every record in order', async () => {
    const p = path.join(dir, 'ahead.pcap');
    fs.writeFileSync(p, CAPTURE);
    const sink = loggingSink();
    const result = await readCaptureFile(p, sink, { chunkSize: 1024 });
    expect(result.packets).toBe(60);
    expect(sink.frames.map((f) => f.tsSec)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(sink.flushed).toBe(CAPTURE.length);
    // Every parse happens with the next chunk's read already issued (the first chunk is read
    // synchronously; the last parse has nothing left to read ahead).
    const parses = events.flatMap((e, i) => (e === 'parsed' ? [i] : []));
    expect(parses.length).toBeGreaterThan(5);
    for (const at of parses.slice(0, -1)) {
      const before = events.slice(0, at);
      expect(before.filter((e) => e === 'read').length).toBeGreaterThan(before.filter((e) => e.startsWith('read-done')).length);
    }
    expect(events.at(-1)).toBe('close');
  });

  it('a read that fails mid-file: an I/O error naming the file, after the records before it, and the file closed', async () => {
    const p = path.join(dir, 'eio.pcap');
    fs.writeFileSync(p, CAPTURE);
    failing.at = 3;
    const sink = loggingSink();
    const err = await readCaptureFile(p, sink, { chunkSize: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortsniffError);
    expect((err as PortsniffError).code).toBe(ErrorCode.Io);
    expect((err as Error).message).toBe(`cannot read capture file ${p}: i/o error`);
    // The chunks read before the failure were parsed; nothing after it.
    expect(sink.frames.length).toBeGreaterThan(0);
    expect(sink.frames.length).toBeLessThan(60);
    expect(events.at(-1)).toBe('close');
  });

  it('waits for the read in flight before closing the file after a format error', async () => {
    const broken = CAPTURE.slice();
    // The third record's captured length becomes absurd: the parser fails inside the first chunk.
    new DataView(broken.buffer).setUint32(24 + 2 * 116 + 8, 0x7fffffff, true);
    const p = path.join(dir, 'broken.pcap');
    fs.writeFileSync(p, broken);
    const sink = loggingSink();
    const err = await readCaptureFile(p, sink, { chunkSize: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).partial?.packets).toBe(2);
    expect(events.filter((e) => e === 'read')).toHaveLength(1);
    expect(events.slice(-2)).toEqual([expect.stringMatching(/^read-done /), 'close']);
  });
});
