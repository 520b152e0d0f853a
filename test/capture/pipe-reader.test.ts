/**
 * pipe-reader.ts: a FIFO drained on a thread of its own into a shared ring. Real FIFOs (`mkfifo`)
 * written by a child process: every byte arrives once and in order, also when the writer sends
 * more than the ring holds while the reading side is slow (the thread must stop reading and start
 * again), with reads of every size (the pieces are copied out of the ring by 64-bit words around
 * them); an idle writer does not hold up destroy(), nor does a FIFO no writer has opened yet. The
 * thread opens the path itself and its socket is the only closer of that descriptor.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_PIECE_BYTES, PIPE_RING_BYTES, pipeChunks, type PipeSource } from '../../src/capture/pipe-reader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portsniff-pipe-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fifos = 0;
/** Readers the tests hold open (never read) so that a writer's non-blocking open finds a reader. */
const keepers: number[] = [];
afterAll(() => keepers.forEach((fd) => fs.closeSync(fd)));

/** A new FIFO, with a reader held open here, and its source for pipeChunks. */
function openFifo(): { path: string; source: PipeSource } {
  const p = path.join(dir, `f${fifos++}.fifo`);
  execFileSync('mkfifo', [p]);
  keepers.push(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
  return { path: p, source: { path: p } };
}

/** Deterministic pseudo-random bytes. */
function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A child process that writes `file` into `fifo` in writes of 1 to `maxWrite` bytes (sizes from a
 * fixed sequence), pausing now and then: the reads on the other side come in every size.
 */
function writer(fifo: string, file: string, maxWrite: number): Promise<number | null> {
  const script = `
    const fs = require('node:fs');
    const data = fs.readFileSync(process.argv[1]);
    const out = fs.openSync(process.argv[2], 'w');
    let x = 7, i = 0, n = 0;
    const step = () => {
      while (i < data.length) {
        x = (x * 1103515245 + 12345) >>> 0;
        const size = 1 + (x >>> 8) % ${maxWrite};
        i += fs.writeSync(out, data, i, Math.min(size, data.length - i));
        if (++n % 64 === 0) return setTimeout(step, 1);
      }
      fs.closeSync(out);
    };
    step();`;
  const child = spawn(process.execPath, ['-e', script, file, fifo], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A next() left waiting for bytes that do not come ends, done, as soon as destroy() is called. */
async function expectDestroyEndsWait(chunks: ReturnType<typeof pipeChunks>): Promise<void> {
  const waiting = chunks[Symbol.asyncIterator]().next();
  await sleep(200);
  const t0 = Date.now();
  chunks.destroy();
  expect(await waiting).toEqual({ done: true, value: undefined });
  expect(Date.now() - t0).toBeLessThan(1000);
}

describe('pipeChunks', () => {
  it('every byte once and in order: more than the ring holds, a slow reader at first, reads of every size', async () => {
    const data = bytesOf(3 * PIPE_RING_BYTES + 12_345, 42);
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, data);
    const fifo = openFifo();
    const chunks = pipeChunks(fifo.source);
    const writing = writer(fifo.path, file, 100_000);
    const got = new Uint8Array(data.length + MAX_PIECE_BYTES);
    let length = 0;
    let pieces = 0;
    for await (const piece of chunks) {
      expect(piece.length).toBeGreaterThan(0);
      expect(piece.length).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      got.set(piece, length);
      length += piece.length;
      // Slow at first: the writer fills the ring and the thread has to wait for room.
      if (++pieces < 8) await sleep(150);
    }
    expect(await writing).toBe(0);
    expect(length).toBe(data.length);
    expect(Buffer.compare(got.subarray(0, length), data)).toBe(0);
  });

  it('a writer that closes without writing: the end at once', async () => {
    const fifo = openFifo();
    const chunks = pipeChunks(fifo.source);
    const empty = path.join(dir, 'empty.bin');
    fs.writeFileSync(empty, '');
    const writing = writer(fifo.path, empty, 10);
    const pieces: Uint8Array[] = [];
    for await (const piece of chunks) pieces.push(piece.slice());
    expect(await writing).toBe(0);
    expect(pieces).toEqual([]);
  });

  it('destroy() while waiting for an idle writer ends the wait at once', async () => {
    const fifo = openFifo();
    // A writer that never writes: the pipe stays open and empty.
    const idle = fs.openSync(fifo.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      await expectDestroyEndsWait(pipeChunks(fifo.source));
    } finally {
      fs.closeSync(idle);
    }
  });

  it('a FIFO no writer has opened yet: the thread waits for one, and destroy() ends that wait', async () => {
    const fifo = path.join(dir, `open-${fifos++}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const chunks = pipeChunks({ path: fifo });
    const waiting = chunks[Symbol.asyncIterator]().next();
    let settled = false;
    void waiting.then(() => (settled = true));
    await sleep(300);
    // No writer yet is not the end: the thread still waits.
    expect(settled).toBe(false);
    const t0 = Date.now();
    chunks.destroy();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(Date.now() - t0).toBeLessThan(1000);
    // The path still works for the next reader: the bytes of a writer that comes later.
    const again = pipeChunks({ path: fifo });
    const file = path.join(dir, 'small.bin');
    fs.writeFileSync(file, bytesOf(1000, 7));
    const writing = writer(fifo, file, 300);
    const got: number[] = [];
    for await (const piece of again) got.push(...piece);
    expect(await writing).toBe(0);
    expect(Buffer.from(got).equals(Buffer.from(bytesOf(1000, 7)))).toBe(true);
  });

  it('a path that cannot be opened: the open error, as the caller words it', async () => {
    const chunks = pipeChunks({ path: path.join(dir, 'missing.fifo'), openError: (err) => new Error(`wrapped: ${(err as NodeJS.ErrnoException).code}`) });
    await expect(chunks[Symbol.asyncIterator]().next()).rejects.toThrow('wrapped: ENOENT');
  });

  it('the end right after the last bytes is never missed (many short writers)', async () => {
    // The reading side waits on a word that every change bumps: an end stored between its look at
    // the counters and its wait must still wake it (a wait on the byte count alone would not).
    for (let i = 0; i < 60; i++) {
      const fifo = path.join(dir, `short-${fifos++}.fifo`);
      execFileSync('mkfifo', [fifo]);
      const it = pipeChunks({ path: fifo })[Symbol.asyncIterator]();
      const first = it.next();
      let out = -1;
      while (out < 0) {
        try {
          out = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        } catch {
          await sleep(1);
        }
      }
      fs.writeSync(out, Uint8Array.of(i, 1, 2));
      fs.closeSync(out);
      const got = await first;
      expect([...(got.value as Uint8Array)]).toEqual([i, 1, 2]);
      expect(await it.next()).toEqual({ done: true, value: undefined });
    }
  });

  it('bytes written slowly come out as they arrive, not held for a full batch', async () => {
    const fifo = openFifo();
    const out = fs.openSync(fifo.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const it = pipeChunks(fifo.source)[Symbol.asyncIterator]();
    try {
      for (let i = 0; i < 3; i++) {
        fs.writeSync(out, Uint8Array.of(i, i + 1, i + 2));
        const r = await it.next();
        expect(r.done).toBe(false);
        expect([...(r.value as Uint8Array)]).toEqual([i, i + 1, i + 2]);
      }
    } finally {
      fs.closeSync(out);
    }
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
