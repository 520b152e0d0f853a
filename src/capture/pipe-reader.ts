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
 * The thread opens the pipe itself, by path (stdin's pipe as `/proc/self/fd/0`, a second open of
 * it, so that the descriptor closed at the end is not fd 0), and its socket is the one thing that
 * closes that descriptor: no descriptor crosses threads. Node closes, when a worker thread exits,
 * every descriptor that thread opened with `fs` and did not close with `fs` (`trackUnmanagedFds`):
 * a descriptor opened elsewhere and closed by this thread's socket, or opened here with that
 * tracking on, was closed a second time at a thread's exit, by then maybe another file's (Node then
 * aborted in another thread's readFileSync). So this thread is started with the tracking off, and
 * only from the main thread: a worker's tracking is inherited by the threads it starts, whatever
 * they ask (capture-stream.ts, pipeline/worker-pipeline.ts). A FIFO with no writer yet is waited
 * for here too (PipeSource), so the thread that answers Ctrl-C is not blocked meanwhile.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from '../util/builtins.js';

/** Bytes of the ring the thread reads into (a power of two). */
export const PIPE_RING_BYTES = 4 * 1024 * 1024;
/** Most bytes one read may take (a pipe gives at most its capacity, 64 KiB unless raised). */
const MAX_READ_BYTES = 256 * 1024;
/** Most bytes one piece lends: less than the fast path's read buffer, so every piece is copied there. */
export const MAX_PIECE_BYTES = 1024 * 1024;

// Control words shared with the thread (Int32Array over a SharedArrayBuffer). The counters wrap
// at 2^32; what lies between them is at most the ring's size.
/** Bytes written into the ring so far (the thread's counter). */
const WRITTEN = 0;
/** Bytes given back by the reading side so far. */
const RELEASED = 1;
/** 1 while the thread has stopped reading for want of room in the ring. */
const PAUSED = 2;
/** Who owns the open: OPENING until one side moves it on (compareExchange: exactly one wins). */
const STATE = 3;
/** How the reading ended (RUNNING until then), stored after the last bytes are written. */
const STATUS = 4;
/** A failed open or read: 1 for the open; then the byte lengths of the message and code. */
const FAILED_OPEN = 5;
const MESSAGE_BYTES = 6;
const CODE_BYTES = 7;
/**
 * Bumped (and notified) by every change the reading side may wait for: bytes written, STATUS set,
 * destroy(). It waits on this word, read before the others, so no change between its reads and its
 * wait is missed (STATUS changes no byte count).
 */
const SIGNALS = 8;
const CONTROL_WORDS = 9;
/** Room after the control words for a failure's message and code (UTF-8, cut to fit). */
const TEXT_BYTES = 512;
/** The thread has not opened the pipe, or has no socket for it yet. */
const OPENING = 0;
/** The thread has the pipe in its socket: terminating the thread closes it. */
const READING = 1;
/** The reading side gave up first: the thread closes what it opened, and exits, by itself. */
const STOPPED = 2;
const RUNNING = 0;
/** The pipe's end was read. */
const ENDED = 1;
/** The open or a read failed: FAILED_OPEN, MESSAGE_BYTES, CODE_BYTES and the text say how. */
const FAILED = 2;
/** The thread exited without saying why (stored by the thread that started it). */
const GONE = 3;

/**
 * The thread's code (CommonJS, started with `eval`: no module to locate next to a bundle, nothing
 * for tsx to transform). It reads with net.Socket's `onread`, which reads into a buffer it is given
 * (the part of the ring where the next bytes go) instead of allocating one per read. When the ring
 * has no room for the next read it stops reading and sets PAUSED; the reading side, having given
 * bytes back, clears PAUSED and sends 'resume'. Both store first and look at the other's word
 * second, so one of them always sees the other: the thread never stays paused with room free.
 * It opens and starts reading when told what ({ path, control, ring, maxRead, port }: its first
 * message), so that it can be started before the CLI has loaded (prestartPipeThread). Everything
 * it tells goes through the shared words (STATUS and the failure's text): the reading side may be
 * another thread than the one that started it, and it needs no message to arrive. `port` (the
 * reading side's) brings 'resume' and 'stop'.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const fs = require('node:fs');
parentPort.once('message', (start) => {
  const control = new Int32Array(start.control);
  const port = start.port;
  // Nothing left to do here: the thread exits once the socket is closed.
  const leave = () => {
    port.close();
    parentPort.unref();
  };
  const finish = (status) => {
    Atomics.store(control, ${STATUS}, status);
    Atomics.add(control, ${SIGNALS}, 1);
    Atomics.notify(control, ${SIGNALS});
  };
  const fail = (err, op) => {
    const text = new Uint8Array(start.control, ${CONTROL_WORDS * 4}, ${TEXT_BYTES});
    const encoder = new TextEncoder();
    const message = encoder.encode(String(err && err.message)).subarray(0, ${TEXT_BYTES - 64});
    const code = encoder.encode(err && typeof err.code === 'string' ? err.code : '').subarray(0, 64);
    text.set(message, 0);
    text.set(code, message.length);
    control[${FAILED_OPEN}] = op === 'open' ? 1 : 0;
    control[${MESSAGE_BYTES}] = message.length;
    control[${CODE_BYTES}] = code.length;
    finish(${FAILED});
  };
  if (Atomics.load(control, ${STATE}) === ${STOPPED}) return leave();
  let fd;
  try {
    fd = fs.openSync(start.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    fail(err, 'open');
    return leave();
  }
  let pipe;
  try {
    pipe = socketOf(fd, control, new Uint8Array(start.ring), start.maxRead);
  } catch (err) {
    fs.closeSync(fd);
    fail(err, 'open');
    return leave();
  }
  // After the end, an error or 'stop' the thread has nothing left to do: it exits by itself.
  const close = () => {
    pipe.destroy();
    leave();
  };
  pipe.on('end', () => {
    finish(${ENDED});
    close();
  });
  pipe.on('error', (err) => {
    fail(err, 'read');
    close();
  });
  port.on('message', (m) => {
    if (m === 'stop') close();
    else if (pipe.mayRead()) pipe.resume();
  });
  // From here the socket owns the descriptor. The starting side may have given up meanwhile: then
  // the socket is closed here (this thread was not terminated, which could have lost the descriptor).
  if (Atomics.compareExchange(control, ${STATE}, ${OPENING}, ${READING}) !== ${OPENING}) close();
});
function socketOf(fd, control, ring, MAX_READ) {
  const SIZE = ring.length;
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
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: nextRead,
      callback: (n) => {
        written = (written + n) >>> 0;
        Atomics.store(control, ${WRITTEN}, written | 0);
        Atomics.add(control, ${SIGNALS}, 1);
        Atomics.notify(control, ${SIGNALS});
        return mayRead();
      },
    },
  });
  pipe.mayRead = mayRead;
  return pipe;
}
`;

/**
 * The bytes of a pipe read on a thread of its own, as an async iterable of pieces. A piece is
 * BORROWED: valid until the next call of next(), which reuses its memory (a reader that keeps bytes
 * longer copies them; CaptureStream does). `destroy()` stops the reading.
 */
export interface PipeChunks extends AsyncIterable<Uint8Array> {
  readonly chunksAreBorrowed: true;
  destroy(): void;
}

/**
 * What pipeChunks reads: a path the thread opens (a FIFO, `/dev/fd/N` of a pipe, stdin's pipe as
 * `/proc/self/fd/0`). The open does not wait for a writer (O_NONBLOCK): the socket's first read
 * waits for one instead (Linux reports no hang-up on a FIFO until it has had a writer), where the
 * thread can be ended at any time; a blocking open could not be, nor could the process exit. The
 * bytes of a writer that comes and goes before the open are lost, as they are for any reader of a
 * FIFO that opens after its last writer closed. `openError` words a failed open (a read error
 * comes out as an Error with the system's `code`).
 */
export interface PipeSource {
  path: string;
  openError?: (err: Error) => Error;
}

/**
 * The ring a pipe thread fills, as its reading side takes it: on the thread that started it, or
 * posted to a worker (`port` in the transfer list) that reads it there (pipeline/worker-file.ts).
 */
export interface PipeRing {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** To the thread: 'resume' after giving room back while it paused, 'stop' to end its reading. */
  port: MessagePort;
}

/** A pipe thread, as the thread that started it holds it. */
export interface PipeThread {
  readonly ring: PipeRing;
  /** Ends the thread (its reading side, elsewhere, then reads the end): at the end of the run, or to stop it. */
  stop(): void;
}

/** Atomics.waitAsync (Node 16+; not in TypeScript's ES2022 library). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Wakes the reading side's wait (SIGNALS). */
function signal(control: Int32Array): void {
  Atomics.add(control, SIGNALS, 1);
  Atomics.notify(control, SIGNALS);
}

/** Reads `source` on a thread of its own (which opens it and closes it: see the file's comment). */
export function pipeChunks(source: PipeSource): PipeChunks {
  const thread = startPipeThread(source);
  return ringChunks(thread.ring, source.openError, () => thread.stop());
}

/**
 * Starts the thread that reads `source` into a new ring (the main thread only: see the file's
 * comment). The thread keeps this one's event loop alive until it ends or stop() is called.
 */
export function startPipeThread(source: PipeSource): PipeThread {
  const { isMainThread, MessageChannel } = nodeWorkerThreads();
  if (!isMainThread) throw new Error('startPipeThread: the pipe thread is started from the main thread only (see pipe-reader.ts)');
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4 + TEXT_BYTES));
  const ring = new SharedArrayBuffer(PIPE_RING_BYTES);
  const channel = new MessageChannel();
  let thread: Worker | null = prestarted ?? startThread();
  prestarted = null;
  thread.ref();
  thread.postMessage({ path: source.path, control: control.buffer, ring, maxRead: MAX_READ_BYTES, port: channel.port2 }, [channel.port2]);
  // An exit without a word (an uncaught error, a lack of memory): its reading side must not wait on.
  const gone = (): void => {
    thread = null;
    if (Atomics.compareExchange(control, STATUS, RUNNING, GONE) === RUNNING) signal(control);
  };
  thread.on('error', () => {});
  thread.on('exit', gone);
  const stop = (): void => {
    const t = thread;
    thread = null;
    if (t === null) return;
    // Terminated between its open and its socket, the thread would lose the descriptor: until it
    // has the socket, it is left to close what it opens and exit by itself (at once: the open
    // never waits).
    if (Atomics.compareExchange(control, STATE, OPENING, STOPPED) === OPENING) t.unref();
    else void t.terminate();
  };
  return { ring: { control: control.buffer as SharedArrayBuffer, ring, port: channel.port1 }, stop };
}

/**
 * The reading side of a pipe thread's ring, on any thread. `openError` words a failed open;
 * `onDestroy` runs at destroy() (pipeChunks: the thread is stopped there too).
 */
export function ringChunks(shared: PipeRing, openError?: (err: Error) => Error, onDestroy?: () => void): PipeChunks {
  const control = new Int32Array(shared.control, 0, CONTROL_WORDS);
  const ringWords = new BigInt64Array(shared.ring);
  const port = shared.port;
  // Where each piece is copied to (see takePiece): MAX_PIECE_BYTES and the words around it.
  const stage = new Uint8Array(MAX_PIECE_BYTES + 16);
  const stageWords = new BigInt64Array(stage.buffer);
  let released = 0;
  let destroyed = false;

  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    port.postMessage('stop');
    onDestroy?.();
    // A next() waiting for bytes ends (done).
    signal(control);
  };
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    for (;;) {
      if (destroyed) return { done: true, value: undefined };
      const signals = Atomics.load(control, SIGNALS);
      // STATUS is stored after the last bytes are written: read it first, then the bytes.
      const status = Atomics.load(control, STATUS);
      const written = Atomics.load(control, WRITTEN);
      const available = ((written >>> 0) - released) >>> 0;
      if (available > 0) return { done: false, value: takePiece(available) };
      if (status === ENDED) return { done: true, value: undefined };
      if (status === FAILED) throw failure();
      if (status === GONE) throw new Error('the thread reading the pipe stopped');
      const waiting = waitAsync(control, SIGNALS, signals);
      if (waiting.async) await waiting.value;
    }
  };
  /** The thread's failure, as it wrote it after the control words. */
  const failure = (): Error => {
    const text = new Uint8Array(shared.control, CONTROL_WORDS * 4, TEXT_BYTES).slice();
    const messageBytes = control[MESSAGE_BYTES]!;
    const decoder = new TextDecoder();
    const err: Error & { code?: string } = new Error(decoder.decode(text.subarray(0, messageBytes)));
    const code = decoder.decode(text.subarray(messageBytes, messageBytes + control[CODE_BYTES]!));
    if (code !== '') err.code = code;
    return control[FAILED_OPEN] === 1 && openError !== undefined ? openError(err) : err;
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
    if (Atomics.compareExchange(control, PAUSED, 1, 0) === 1) port.postMessage('resume');
    return stage.subarray(at - from, at - from + length);
  };
  return {
    chunksAreBorrowed: true,
    [Symbol.asyncIterator]: () => ({ next, return: async () => (destroy(), { done: true, value: undefined }) }),
    destroy,
  };
}

/** A thread started ahead (prestartPipeThread), idle until pipeChunks takes it. */
let prestarted: Worker | null = null;

function startThread(): Worker {
  const { Worker } = nodeWorkerThreads();
  // The thread's socket closes the descriptor it opened: Node's tracking would close it again.
  return new Worker(THREAD_SOURCE, { eval: true, trackUnmanagedFds: false });
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
