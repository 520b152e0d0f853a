/**
 * A pipe or FIFO drained on a thread of its own (`tcpdump -w - | portsniff replay -`, a named FIFO).
 *
 * A pipe holds 64 KiB. Read where the packets are parsed, the writer fills it while the parser
 * works and then waits, and the parser waits for each read: the two take turns instead of running
 * side by side (a 634 MB capture piped: 1.2-1.7 s, against 0.7 s from the file and 0.6-1.0 s for a
 * process that only drains the pipe; bench/README.md "A pipe drained on a thread of its own"). Here a thread
 * does nothing but read the pipe into a shared ring (PIPE_RING_BYTES), so the writer keeps writing
 * while the engine works; the reading side takes what is there as soon as it is written (no
 * batching delay for a slow pipe) and waits on the ring's counter when it has caught up. Memory is
 * the ring, and nothing is allocated per read.
 *
 * The reading side ends the thread with `destroy()`: the thread waits in epoll, never in a blocking
 * read, so it stops at once even when the writer is idle, and exiting the process never waits for
 * it.
 *
 * The thread reads its own descriptor of the pipe: for stdin a second open of the same pipe
 * (`/proc/self/fd/0`), so that the descriptor closed at the end is not fd 0.
 */
import * as fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from '../util/builtins.js';

/** Bytes of the ring the thread reads into (a power of two). */
export const PIPE_RING_BYTES = 4 * 1024 * 1024;
/** Most bytes one read may take (a pipe gives at most its capacity, 64 KiB unless raised). */
const MAX_READ_BYTES = 256 * 1024;
/** Most bytes one piece lends: less than the fast path's read buffer, so every piece is copied there. */
export const MAX_PIECE_BYTES = 1024 * 1024;

// Control words shared with the thread (Int32Array over a SharedArrayBuffer). The counters wrap
// at 2^32; what lies between them is at most the ring's size.
/** Bytes written into the ring so far (the thread's counter; waited on by the reading side). */
const WRITTEN = 0;
/** Bytes given back by the reading side so far. */
const RELEASED = 1;
/** 1 while the thread has stopped reading for want of room in the ring. */
const PAUSED = 2;
const CONTROL_WORDS = 3;

/**
 * The thread's code (CommonJS, started with `eval`: no module to locate next to a bundle, nothing
 * for tsx to transform). It reads with net.Socket's `onread`, which reads into a buffer it is given
 * (the part of the ring where the next bytes go) instead of allocating one per read. When the ring
 * has no room for the next read it stops reading and sets PAUSED; the reading side, having given
 * bytes back, clears PAUSED and sends 'resume'. Both store first and look at the other's word
 * second, so one of them always sees the other: the thread never stays paused with room free.
 * It starts reading when told where ({ fd, control, ring, maxRead }: its first message), so that
 * it can be started before the CLI has loaded (prestartPipeThread). Messages out: { end: true }
 * after the last bytes, { error, code } when a read fails.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
parentPort.once('message', (start) => {
  const control = new Int32Array(start.control);
  const ring = new Uint8Array(start.ring);
  const SIZE = ring.length;
  const MAX_READ = start.maxRead;
  let written = 0;
  const nextRead = () => {
    const at = written % SIZE;
    return ring.subarray(at, Math.min(SIZE, at + MAX_READ));
  };
  const roomForNextRead = () => {
    const used = (written - (Atomics.load(control, ${RELEASED}) >>> 0)) >>> 0;
    return SIZE - used >= Math.min(MAX_READ, SIZE - written % SIZE);
  };
  // True when reading may go on now; else PAUSED is set (and stays set only while there is no room).
  const mayRead = () => {
    if (roomForNextRead()) return true;
    Atomics.store(control, ${PAUSED}, 1);
    if (!roomForNextRead()) return false;
    Atomics.store(control, ${PAUSED}, 0);
    return true;
  };
  const pipe = new net.Socket({
    fd: start.fd,
    readable: true,
    writable: false,
    onread: {
      buffer: nextRead,
      callback: (n) => {
        written = (written + n) >>> 0;
        Atomics.store(control, ${WRITTEN}, written | 0);
        Atomics.notify(control, ${WRITTEN});
        return mayRead();
      },
    },
  });
  // After the end or an error the thread has nothing left to do: it exits by itself.
  pipe.on('end', () => {
    parentPort.postMessage({ end: true });
    pipe.destroy();
    parentPort.unref();
  });
  pipe.on('error', (err) => {
    parentPort.postMessage({ error: err.message, code: err.code });
    pipe.destroy();
    parentPort.unref();
  });
  parentPort.on('message', () => {
    if (mayRead()) pipe.resume();
  });
});
`;

/**
 * The bytes of a pipe read on a thread of its own, as an async iterable of pieces. A piece is
 * BORROWED: valid until the next call of next(), which reuses its memory (a reader that keeps bytes
 * longer copies them; CaptureStream does). `destroy()` stops the thread.
 */
export interface PipeChunks extends AsyncIterable<Uint8Array> {
  readonly chunksAreBorrowed: true;
  destroy(): void;
}

type ThreadMessage = { end: true } | { error: string; code?: string };

/** Atomics.waitAsync (Node 16+; not in TypeScript's ES2022 library). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/**
 * Reads `fd` (a pipe or FIFO) on a thread of its own. Takes `fd` over: the thread closes it at the
 * end, or when destroyed. A read error comes out of next() as an Error with the system's `code`.
 */
export function pipeChunks(fd: number): PipeChunks {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const ring = new Uint8Array(new SharedArrayBuffer(PIPE_RING_BYTES));
  let thread: Worker | null = prestarted ?? startThread();
  prestarted = null;
  thread.ref();
  thread.postMessage({ fd, control: control.buffer, ring: ring.buffer, maxRead: MAX_READ_BYTES });
  const ringWords = new BigInt64Array(ring.buffer);
  // Where each piece is copied to (see takePiece): MAX_PIECE_BYTES and the words around it.
  const stage = new Uint8Array(MAX_PIECE_BYTES + 16);
  const stageWords = new BigInt64Array(stage.buffer);
  let released = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;

  const stop = (): void => {
    const t = thread;
    thread = null;
    if (t === null) return;
    t.removeAllListeners();
    t.on('error', () => {});
    void t.terminate();
    // A next() waiting for bytes ends (done); so does its wait on WRITTEN.
    Atomics.notify(control, WRITTEN);
    wake?.();
  };
  thread.on('message', (m: ThreadMessage) => {
    if ('end' in m) ended = true;
    else failure = Object.assign(new Error(m.error), m.code !== undefined ? { code: m.code } : {});
    Atomics.notify(control, WRITTEN);
    wake?.();
  });
  thread.on('error', (err) => {
    failure ??= err;
    wake?.();
  });
  thread.on('exit', () => {
    // The thread ends by itself after the end of the pipe or an error, both told before.
    if (!ended && failure === null) failure = new Error('the thread reading the pipe stopped');
    thread = null;
    wake?.();
  });

  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    for (;;) {
      // The end and errors are told after the last bytes are written: bytes first.
      const done = ended || failure !== null || thread === null;
      const written = Atomics.load(control, WRITTEN);
      const available = ((written >>> 0) - released) >>> 0;
      if (available > 0) return { done: false, value: takePiece(available) };
      if (failure !== null) throw failure;
      if (done) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        wake = resolve;
        const waiting = waitAsync(control, WRITTEN, written);
        if (waiting.async) void waiting.value.then(() => resolve());
        else resolve();
      });
      wake = null;
    }
  };
  /**
   * Copies the next piece out of the ring and gives its room back at once. The copy goes through
   * 64-bit words: V8 copies a shared Uint8Array a byte at a time with atomic loads (2.6 GB/s here,
   * against 20 GB/s for BigInt64Arrays), so whole words are copied around the piece and the piece
   * is a view of the copy.
   */
  const takePiece = (available: number): Uint8Array => {
    const at = released % PIPE_RING_BYTES;
    const length = Math.min(available, PIPE_RING_BYTES - at, MAX_PIECE_BYTES);
    const from = at & ~7;
    const to = (at + length + 7) & ~7;
    stageWords.set(ringWords.subarray(from >>> 3, to >>> 3), 0);
    released = (released + length) >>> 0;
    Atomics.store(control, RELEASED, released | 0);
    if (Atomics.compareExchange(control, PAUSED, 1, 0) === 1) thread?.postMessage('resume');
    return stage.subarray(at - from, at - from + length);
  };
  return {
    chunksAreBorrowed: true,
    [Symbol.asyncIterator]: () => ({ next, return: async () => (stop(), { done: true, value: undefined }) }),
    destroy: stop,
  };
}

/** A thread started ahead (prestartPipeThread), idle until pipeChunks takes it. */
let prestarted: Worker | null = null;

function startThread(): Worker {
  const { Worker } = nodeWorkerThreads();
  return new Worker(THREAD_SOURCE, { eval: true });
}

/**
 * Starts the thread the next pipeChunks() will read with, before the CLI loads (cli/prestart.ts):
 * its ~30 ms of start-up then overlap the CLI's instead of following them, which is most of what a
 * small capture piped in costs more than from its file. It reads nothing until taken, and, unref'd,
 * never keeps the process alive.
 */
export function prestartPipeThread(): void {
  if (prestarted !== null) return;
  prestarted = startThread();
  prestarted.unref();
}

/**
 * Stdin's pipe opened a second time, for pipeChunks: non-blocking, so the open returns at once
 * even when the writer has gone already (the bytes it left are still read, then the end). Null
 * when that cannot be done here (no /proc): stdin is then read as the stream it is.
 */
export function reopenStdinPipe(): number | null {
  try {
    return fs.openSync('/proc/self/fd/0', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
}
