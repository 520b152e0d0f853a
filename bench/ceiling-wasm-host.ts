/**
 * Runs the WebAssembly build of the ceiling loop (bench/assembly/ceiling-loop.ts) on a pcap file:
 * reads the file into the module's two buffers, by readSync or one chunk ahead with fs.read as
 * bench/ceiling-loop.ts does, and calls walk() on each chunk. Bundled by bench/ceiling.ts into a
 * plain JavaScript file for a child `node` process.
 */
import { closeSync, openSync, read, readFileSync, readSync } from 'node:fs';

const CHUNK = 2 * 1024 * 1024;
const HEADROOM = 256 * 1024;
const BUF = HEADROOM + CHUNK;

// The project's lib (ES2023, no DOM) has no WebAssembly types: what this file uses of it.
declare const WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }> };

interface LoopExports {
  memory: { buffer: ArrayBuffer };
  init(capacity: number, bufBytes: number, features: boolean): number;
  walk(buf: number, p: number, filled: number): number;
  result(i: number): number;
}

/** The same answer as ceilingLoop(): [packets, flows, evicted, other, checksum]. */
export async function wasmLoop(wasm: string, path: string, capacity: number, readAhead: boolean, features = false): Promise<number[]> {
  const { instance } = await WebAssembly.instantiate(readFileSync(wasm), {
    env: {
      abort: () => {
        throw new Error('the WebAssembly loop aborted');
      },
    },
  });
  const x = instance.exports as unknown as LoopExports;
  const first = x.init(capacity, BUF, features);
  // init() grew the memory: views are taken after it.
  const mem = new Uint8Array(x.memory.buffer);
  const view = (at: number): Uint8Array => mem.subarray(at, at + BUF);
  const fd = openSync(path, 'r');
  const readAt = (at: number): Promise<number> =>
    new Promise((resolve, reject) => read(fd, view(at), HEADROOM, CHUNK, null, (err, n) => (err ? reject(err) : resolve(n))));
  let buf = first;
  let spare = first + BUF;
  let filled = HEADROOM + readSync(fd, view(buf), HEADROOM, CHUNK, null);
  let p = HEADROOM;
  const magic = (mem[buf + p]! | (mem[buf + p + 1]! << 8) | (mem[buf + p + 2]! << 16) | (mem[buf + p + 3]! << 24)) >>> 0;
  if (filled - p < 24 || (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d)) {
    closeSync(fd);
    throw new Error(`${path}: only little-endian pcap files`);
  }
  p += 24;
  let ahead = readAhead ? readAt(spare) : null;
  for (;;) {
    p = x.walk(buf, p, filled);
    const cut = filled - p;
    const n = ahead !== null ? await ahead : readSync(fd, view(spare), HEADROOM, CHUNK, null);
    if (cut > HEADROOM) {
      closeSync(fd);
      throw new Error(`${path}: a record larger than ${HEADROOM} bytes`);
    }
    if (n === 0) break;
    mem.copyWithin(spare + HEADROOM - cut, buf + p, buf + filled);
    const full = buf;
    buf = spare;
    spare = full;
    p = HEADROOM - cut;
    filled = HEADROOM + n;
    if (ahead !== null) ahead = readAt(spare);
  }
  closeSync(fd);
  return [0, 1, 2, 3, 4].map((i) => x.result(i));
}
