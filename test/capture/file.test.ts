import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, ErrorCode, PortsniffError } from '../../src/errors.js';
import { readCaptureFile, readCaptureStream } from '../../src/capture/file.js';
import { CaptureStream, GUNZIP_CHUNK_BYTES } from '../../src/capture/capture-stream.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { buildPcapng } from '../../src/capture/pcapng-writer.js';
import type { PipeChunks } from '../../src/capture/pipe-reader.js';
import type { CaptureReadResult } from '../../src/capture/types.js';
import { CollectingSink, packet, parseBytes } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portsniff-capture-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

const PCAP = buildPcap(
  [
    { tsSec: 10, tsFrac: 1, data: packet(60, 1) },
    { tsSec: 11, tsFrac: 2, data: packet(5000, 2) }, // larger than the small chunk sizes below
    { tsSec: 12, tsFrac: 3, data: packet(1, 3) },
  ],
  { bigEndian: true },
);
const PCAPNG = buildPcapng([
  { blocks: [{ type: 'idb', linkType: 1 }, { type: 'epb', interfaceId: 0, ts: 7n, data: packet(70, 4) }] },
  { byteOrder: 'big', blocks: [{ type: 'idb', linkType: 0 }, { type: 'epb', interfaceId: 0, ts: 8n, data: packet(3000, 5) }] },
]);

type Source = 'path' | 'gzip path' | 'stream' | 'stdin' | 'gzip stdin' | 'fifo' | 'gzip fifo';
const SOURCES: Source[] = ['path', 'gzip path', 'stream', 'stdin', 'gzip stdin', 'fifo', 'gzip fifo'];

/**
 * Reads `bytes` written into a FIFO (read on a thread of its own: pipe-reader.ts) the way a slow
 * writer sends them: the first byte alone, then pieces of 777 bytes with pauses, so the reader gets
 * them apart (the gzip sniffing keeps a first piece of one byte across the next read).
 */
async function readFifo(name: string, bytes: Uint8Array, sink: CollectingSink, opts: { chunkSize?: number }): Promise<CaptureReadResult> {
  const fifo = path.join(dir, `${name}.fifo`);
  fs.rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  const reading = readCaptureFile(fifo, sink, opts);
  // A writer as `cat > fifo` is: its open waits for the reader (here polled, non-blocking, since
  // this thread writes).
  const writer = await openWhenRead(fifo);
  try {
    await writeAll(writer, bytes.subarray(0, 1));
    for (let i = 1; i < bytes.length; i += 777) {
      await new Promise((r) => setTimeout(r, 5));
      await writeAll(writer, bytes.subarray(i, i + 777));
    }
  } finally {
    fs.closeSync(writer);
  }
  return reading;
}

/** The FIFO opened for writing once it has a reader (ENXIO until then). */
async function openWhenRead(fifo: string): Promise<number> {
  for (;;) {
    try {
      return fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** Writes all of `bytes` to a non-blocking descriptor, waiting while the pipe is full. */
async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** Reads `bytes` through one of the input paths; chunks of `piece` bytes for streams. */
async function readVia(source: Source, bytes: Uint8Array, sink: CollectingSink, name: string, chunkSize?: number): Promise<CaptureReadResult> {
  const chunks = (data: Uint8Array, piece: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += piece) out.push(data.subarray(i, i + piece));
    return out;
  };
  const opts = chunkSize === undefined ? {} : { chunkSize };
  switch (source) {
    case 'path':
      return readCaptureFile(write(name, bytes), sink, opts);
    case 'gzip path':
      return readCaptureFile(write(`${name}.gz`, zlib.gzipSync(bytes)), sink, opts);
    case 'stream':
      return readCaptureStream(Readable.from(chunks(bytes, 777)), name, sink, opts);
    case 'stdin':
      return readCaptureFile('-', sink, { ...opts, stdin: Readable.from(chunks(bytes, 1)) });
    case 'gzip stdin':
      return readCaptureFile('-', sink, { ...opts, stdin: Readable.from(chunks(zlib.gzipSync(bytes), 10)) });
    case 'fifo':
      return readFifo(name, bytes, sink, opts);
    case 'gzip fifo':
      return readFifo(`${name}.gz`, zlib.gzipSync(bytes), sink, opts);
  }
}

describe('readCaptureFile: the same results from every input path', () => {
  for (const source of SOURCES) {
    for (const [kind, bytes] of [
      ['pcap', PCAP],
      ['pcapng', PCAPNG],
    ] as const) {
      it(`${kind} via ${source}`, async () => {
        const expected = new CollectingSink();
        const direct = parseBytes(bytes, expected).result!;
        for (const chunkSize of [undefined, 64]) {
          const sink = new CollectingSink();
          const result = await readVia(source, bytes, sink, `ok-${kind}.cap`, chunkSize);
          expect(result).toEqual(direct);
          expect(sink.frames).toEqual(expected.frames);
          expect(sink.flushed).toBe(bytes.length);
        }
      });

      it(`${kind} cut short via ${source}: packets kept, truncation reported`, async () => {
        const cut = bytes.subarray(0, bytes.length - 10);
        const expected = new CollectingSink();
        const direct = parseBytes(cut, expected).result!;
        expect(direct.truncated).toBeDefined();
        const sink = new CollectingSink();
        const result = await readVia(source, cut, sink, `cut-${kind}.cap`, 100);
        expect(result).toEqual(direct);
        expect(sink.frames).toEqual(expected.frames);
      });
    }

    it(`a bad record via ${source}: error with the partial result attached`, async () => {
      const bad = buildPcap([
        { tsSec: 1, data: packet(10, 1) },
        { tsSec: 2, data: packet(10, 2) },
        { tsSec: 3, data: packet(10, 3), capLenField: 0x01000000 },
      ]);
      const sink = new CollectingSink();
      const err = await readVia(source, bad, sink, 'bad.pcap').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CaptureFormatError);
      const e = err as CaptureFormatError;
      expect(e.code).toBe(ErrorCode.BadRecordLength);
      expect(e.offset).toBe(24 + 26 + 26);
      expect(e.partial?.packets).toBe(2);
      expect(e.partial?.bytesRead).toBe(24 + 26 + 26);
      expect(e.partial?.info.format).toBe('pcap');
      expect(sink.frames).toHaveLength(2);
    });
  }
});

describe('readCaptureStream: borrowed pieces (a pipe read on its own thread)', () => {
  /**
   * A source like pipe-reader's: each piece lives in one scratch buffer that the next read
   * overwrites (here with 0xee first), so a reader that keeps a piece past the next read sees it
   * change. Pieces of `piece` bytes.
   */
  function borrowedSource(bytes: Uint8Array, piece: number): PipeChunks {
    const scratch = new Uint8Array(piece);
    let offset = 0;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      scratch.fill(0xee);
      if (offset >= bytes.length) return { done: true, value: undefined };
      const n = Math.min(piece, bytes.length - offset);
      scratch.set(bytes.subarray(offset, offset + n));
      offset += n;
      return { done: false, value: scratch.subarray(0, n) };
    };
    return { chunksAreBorrowed: true, destroy: () => {}, [Symbol.asyncIterator]: () => ({ next }) };
  }

  for (const [kind, bytes] of [
    ['pcap', PCAP],
    ['pcapng', PCAPNG],
  ] as const) {
    for (const gzip of [false, true]) {
      it(`${gzip ? 'gzip ' : ''}${kind} in pieces of 1 and 777 bytes: the same frames as the bytes`, async () => {
        const expected = new CollectingSink();
        const direct = parseBytes(bytes, expected).result!;
        const input = gzip ? zlib.gzipSync(bytes) : bytes;
        for (const piece of [1, 777]) {
          const sink = new CollectingSink();
          const result = await readCaptureStream(borrowedSource(input, piece), 'borrowed', sink);
          expect(result).toEqual(direct);
          expect(sink.frames).toEqual(expected.frames);
        }
      });
    }
  }
});

describe('readCaptureStream: pacing a stream (chunkSize and gate)', () => {
  // A paced replay reads 4 KiB at a time and the gate holds each read's records until they are due.
  // A stream's pieces can be far larger (1 MiB from a pipe or gunzip): they are parsed a slice at a
  // time, the gate awaited between slices.
  const many = buildPcap(Array.from({ length: 300 }, (_, i) => ({ tsSec: i, data: packet(60, i & 0xff) })));

  it.each(['stream', 'borrowed'] as const)('one large %s piece: at most a slice of records between two gates', async (kind) => {
    const sink = new CollectingSink();
    const seen: number[] = [];
    const whole = kind === 'stream' ? Readable.from([many]) : lendOnce(many);
    const result = await readCaptureStream(whole, 'paced', sink, { chunkSize: 1024, gate: async () => void seen.push(sink.frames.length) });
    expect(result.packets).toBe(300);
    expect(seen.length).toBeGreaterThanOrEqual(Math.floor(many.length / 1024));
    const steps = seen.map((n, i) => n - (seen[i - 1] ?? 0));
    // 1024 bytes hold 13 records of 76 bytes (16-byte header + 60), and one cut at a slice's end.
    expect(Math.max(...steps)).toBeLessThanOrEqual(14);
  });

  it.each(['file', 'stream'] as const)('readSize, asked before each read (a %s), sets how many records come between two gates', async (kind) => {
    // Pacer.readBytes: small reads while the rate is unknown, larger ones once the replay is fast.
    const sink = new CollectingSink();
    const seen: number[] = [];
    let asked = 0;
    const readSize = (): number => (++asked <= 10 ? 1024 : 8192);
    const opts = { chunkSize: 256 * 1024, readSize, gate: async () => void seen.push(sink.frames.length) };
    const file = path.join(dir, `readsize-${kind}.pcap`);
    fs.writeFileSync(file, many);
    try {
      const result = kind === 'file' ? await readCaptureFile(file, sink, opts) : await readCaptureStream(Readable.from([many]), 'paced', sink, opts);
      expect(result.packets).toBe(300);
    } finally {
      fs.rmSync(file, { force: true });
    }
    const steps = seen.map((n, i) => n - (seen[i - 1] ?? 0));
    // 1024 bytes: at most 14 records of 76 bytes; 8192: at most 108 (and more than 14 at once).
    expect(Math.max(...steps.slice(0, 8))).toBeLessThanOrEqual(14);
    expect(Math.max(...steps)).toBeGreaterThan(14);
    expect(Math.max(...steps)).toBeLessThanOrEqual(108);
  });

  it('without a chunk size the pieces are parsed as they come', async () => {
    const sink = new CollectingSink();
    let gates = 0;
    await readCaptureStream(Readable.from([many]), 'unpaced', sink, { gate: async () => void gates++ });
    expect(gates).toBe(1);
  });

  /** The whole of `bytes` as one borrowed piece (a pipe's). */
  function lendOnce(bytes: Uint8Array): PipeChunks {
    let given = false;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (given) return { done: true, value: undefined };
      given = true;
      return { done: false, value: bytes };
    };
    return { chunksAreBorrowed: true, destroy: () => {}, [Symbol.asyncIterator]: () => ({ next }) };
  }
});

describe('readCaptureFile: the frame buffer', () => {
  // The classifier's reassembly pool is a plain Uint8Array; if frames came in a Buffer, every
  // recogniser would see two array maps, deoptimize once and stay polymorphic (measured: 342-348
  // TurboFan compiles and 33-34 deopts on the reference capture, against 292-296 and 15-16).
  for (const source of SOURCES) {
    it(`is a plain Uint8Array via ${source}, also after growing for a large record`, async () => {
      const kinds = new Set<string>();
      const sink = {
        frame(buf: Uint8Array): void {
          kinds.add(Object.getPrototypeOf(buf) === Uint8Array.prototype ? 'Uint8Array' : (buf.constructor?.name ?? '?'));
        },
      };
      await readVia(source, PCAP, sink as unknown as CollectingSink, `kind-${source.replace(' ', '-')}.pcap`, 64);
      await readVia(source, PCAP, sink as unknown as CollectingSink, `kind2-${source.replace(' ', '-')}.pcap`);
      expect([...kinds]).toEqual(['Uint8Array']);
    });
  }
});

describe('readCaptureFile: environment errors', () => {
  it('names a missing file', async () => {
    const p = path.join(dir, 'nope.pcap');
    const err = await readCaptureFile(p, new CollectingSink()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortsniffError);
    expect((err as PortsniffError).code).toBe(ErrorCode.Io);
    expect((err as Error).message).toBe(`cannot open capture file ${p}: no such file`);
  });

  it('names a directory', async () => {
    const err = await readCaptureFile(dir, new CollectingSink()).catch((e: unknown) => e);
    expect((err as PortsniffError).code).toBe(ErrorCode.Io);
    expect((err as Error).message).toMatch(/is a directory$/);
  });

  it.skipIf(process.getuid?.() === 0)('names an unreadable file', async () => {
    const p = write('secret.pcap', PCAP);
    fs.chmodSync(p, 0o000);
    const err = await readCaptureFile(p, new CollectingSink()).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`cannot open capture file ${p}: permission denied`);
  });

  it('reports a corrupt gzip stream as a decompression error naming the file', async () => {
    const gz = zlib.gzipSync(PCAP);
    for (let i = 20; i < 40; i++) gz[i] = gz[i]! ^ 0x5a;
    const p = write('corrupt.pcap.gz', gz);
    const err = await readCaptureFile(p, new CollectingSink()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortsniffError);
    expect((err as PortsniffError).code).toBe(ErrorCode.Decompress);
    expect((err as Error).message).toContain(`cannot decompress ${p}`);
  });

  it('treats a gzip stream that stops early as a truncated capture', async () => {
    const gz = zlib.gzipSync(PCAP);
    const p = write('short.pcap.gz', gz.subarray(0, gz.length - 30));
    const sink = new CollectingSink();
    const result = await readCaptureFile(p, sink);
    expect(result.truncated?.message).toBeDefined();
    expect(result.packets).toBe(sink.frames.length);
    expect(result.packets).toBeLessThan(3);
  });

  it('reports an empty stdin clearly', async () => {
    const err = await readCaptureFile('-', new CollectingSink(), { stdin: Readable.from([]) }).catch((e: unknown) => e);
    expect((err as CaptureFormatError).code).toBe(ErrorCode.TruncatedFile);
    expect((err as Error).message).toContain('<stdin>: the capture is empty');
  });
});

describe('readCaptureFile: stopping on an AbortSignal', () => {
  const many = buildPcap(Array.from({ length: 200 }, (_, i) => ({ tsSec: i, data: packet(100, i) })));

  it('stops between chunks of a file and returns what was read', async () => {
    const p = write('many.pcap', many);
    const ctl = new AbortController();
    const sink = new CollectingSink();
    const origFrame = sink.frame.bind(sink);
    sink.frame = (...args) => {
      origFrame(...args);
      if (sink.frames.length === 5) ctl.abort();
    };
    const result = await readCaptureFile(p, sink, { chunkSize: 1024, signal: ctl.signal });
    expect(result.aborted).toBe(true);
    expect(result.truncated).toBeUndefined();
    expect(result.packets).toBe(sink.frames.length);
    expect(result.packets).toBeGreaterThanOrEqual(5);
    expect(result.packets).toBeLessThan(200);
  });

  it('reads nothing with a signal that is already aborted', async () => {
    const p = write('many2.pcap', many);
    const result = await readCaptureFile(p, new CollectingSink(), { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ packets: 0, aborted: true });
  });

  it('stops a stream that is waiting for data', async () => {
    const stdin = new PassThrough();
    stdin.write(many.subarray(0, 24 + 116 * 3 + 10));
    const ctl = new AbortController();
    const sink = new CollectingSink();
    const pending = readCaptureFile('-', sink, { stdin, signal: ctl.signal });
    await new Promise((r) => setTimeout(r, 20));
    ctl.abort();
    const result = await pending;
    expect(result).toMatchObject({ packets: 3, aborted: true });
  });
});

describe('gzip streams', () => {
  it('are inflated in pieces of up to GUNZIP_CHUNK_BYTES, not zlib\'s 16 KiB (a thread-pool round trip each)', async () => {
    const frames = Array.from({ length: 4000 }, (_, i) => ({ tsSec: 1_700_000_000 + i, data: packet(600, i & 0xff) }));
    const raw = buildPcap(frames, { linkType: 1 });
    const input = new CaptureStream(Readable.from([zlib.gzipSync(raw)]), 'x.pcap.gz');
    let largest = 0;
    let total = 0;
    for (let r = await input.next(); r.done !== true; r = await input.next()) {
      largest = Math.max(largest, r.value.length);
      total += r.value.length;
    }
    expect(input.gzip).toBe(true);
    expect(total).toBe(raw.length);
    expect(largest).toBeGreaterThan(64 * 1024);
    expect(largest).toBeLessThanOrEqual(GUNZIP_CHUNK_BYTES);
  });
});
