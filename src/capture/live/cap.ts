/**
 * The in-process backend: the npm package `cap` (libpcap through a node-gyp addon), an optional
 * dependency loaded lazily. Its limits, measured and handled here rather than hidden:
 *  - snaplen is fixed at 65535 by the binding; a smaller --snaplen is applied when copying out.
 *  - no per-packet timestamps and no original length: we take a monotonic clock (performance.now,
 *    anchored to the wall clock once at start) when the packet reaches JavaScript, and report the
 *    captured length as the original length.
 *  - no drop statistics: kernel and interface drops are reported as unknown (null), never 0. To
 *    make drops unlikely the default kernel buffer is large (64 MiB, 256 MiB on lo).
 *  - it aborts the process when used inside a worker thread: open() refuses anything but the main
 *    thread (workers get batches from the main thread instead).
 *  - it always opens the device in promiscuous mode: --no-promisc is refused.
 *
 * The binding copies every packet into one reused Buffer and emits 'packet' synchronously. The
 * handler below is the one place that reads that Buffer: it copies the packet, with a pcap record
 * header, into a chunk; chunks go through PcapStreamFeeder, the same path as tcpdump's stdout, so
 * --write writes the chunk bytes as they are and the parser delivers frames to the sink outside
 * the native callback (on the next turn of the event loop, or when a chunk is full).
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import * as fs from 'node:fs';
import { UsageError } from '../../errors.js';
import { PCAP_MAGIC_USEC } from '../pcap-reader.js';
import type { FrameSink, LiveCounters, LiveStats } from '../types.js';
import { LiveControl } from './control.js';
import { CAP_BUILD_HINT, LiveCaptureError, classifyCaptureFailure, withLivePartial } from './errors.js';
import { defaultBufferKiB, linkTypeFromCapName } from './link-types.js';
import { PcapStreamFeeder, discardWriteFile, openWriteFile } from './pcap-stream.js';
import { annotateInterface } from './tcpdump.js';
import {
  CAP_FIXED_SNAPLEN,
  type FlowClockTick,
  type LiveCaptureOptions,
  type LiveReadResult,
  type LiveSource,
} from './types.js';

/** The part of the `cap` module portsniff uses (it ships no types). */
export interface CapModule {
  Cap: CapConstructor;
}

export interface CapConstructor {
  new (): CapHandle;
  deviceList(): CapDevice[];
}

export interface CapHandle {
  /** Opens the device and starts capturing; returns the link type name. Throws libpcap's message. */
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: Array<{ addr: string; netmask?: string; broadaddr?: string }>;
  flags?: string;
}

/** Size of the chunks packets are copied into (a few hundred packets of 1500 bytes). */
const CHUNK_SIZE = 1024 * 1024;
const PCAP_HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Loads the binding: $PORTSNIFF_CAP_MODULE (a module id or path, for custom builds and tests) or
 * `cap`. Throws a one-line LiveCaptureError saying how to build it when it cannot be loaded, and
 * refuses to load it off the main thread.
 */
export function loadCap(env: NodeJS.ProcessEnv = process.env, mainThread = isMainThread): CapModule {
  if (!mainThread) {
    throw new LiveCaptureError(
      'backend-failed',
      'the cap backend must run on the main thread (the binding aborts the process inside a worker thread); capture on the main thread and ship batches to workers',
    );
  }
  const id = env['PORTSNIFF_CAP_MODULE'] || 'cap';
  try {
    const mod = createRequire(import.meta.url)(id) as Partial<CapModule>;
    if (typeof mod.Cap !== 'function') throw new Error(`'${id}' does not export Cap`);
    return mod as CapModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = String(e?.message ?? err).split('\n')[0]!;
    const why =
      e?.code === 'MODULE_NOT_FOUND' && message.includes(`'${id}'`)
        ? `the optional package '${id}' is not installed`
        : /\.node\b/.test(message)
          ? 'its native addon is not built'
          : message;
    throw new LiveCaptureError('backend-missing', `the cap backend is not available (${why}): ${CAP_BUILD_HINT}`, { cause: err });
  }
}

/**
 * Every native Cap object this process creates, kept reachable for the life of the process on
 * purpose: the binding's destructor (run when V8 collects the object) is unsafe in both cases we
 * meet. After a failed open() (bad filter, no permission) the object holds a pcap handle and an
 * uninitialised uv_poll_t, and the destructor's uv_poll_stop aborts the process (`Assertion
 * !uv__is_closing(handle) failed`, exit 134). After a successful open() and close(), the poll
 * handle was stopped but never uv_close()d, so it is still on libuv's handle list when its memory
 * is freed (SIGSEGV later). Never collected, the destructor never runs; close() still releases
 * the pcap handle and its ring. The cost is a small object per capture, and the pcap handle of a
 * failed open (kept small by probeFilter).
 */
const KEEP_ALIVE: unknown[] = [];
const PROBE_BUFFER_BYTES = 64 * 1024;

export class CapSource implements LiveSource {
  readonly backend = 'cap' as const;
  private readonly opts: LiveCaptureOptions;
  private readonly getModule: () => CapModule;
  private cap: CapHandle | null = null;
  private opened = false;
  private linkType = -1;
  private readonly snaplen: number;
  /** The binding's reused packet buffer: valid only inside the 'packet' handler. */
  private readonly packetBuf = Buffer.alloc(CAP_FIXED_SNAPLEN);
  private chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private pos = 0;
  /** Full chunks that arrived before start() attached the parser. */
  private pending: Buffer[] = [];
  private feeder: PcapStreamFeeder | null = null;
  private flushScheduled = false;
  private recorded = 0;
  private accepting = true;
  private failure: unknown = null;
  private wallAnchorMs = 0;
  private monoAnchorMs = 0;
  private control: LiveControl | null = null;
  private writeFd: number | null = null;
  /** Counters while capturing: libpcap's statistics are not available through the binding. */
  counters(): LiveCounters | null {
    if (this.feeder === null) return null;
    return { captured: this.feeder.packets, droppedByKernel: null, droppedByInterface: null, engineDrops: 0 };
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(opts: LiveCaptureOptions, getModule: () => CapModule = () => loadCap()) {
    this.opts = opts;
    this.getModule = getModule;
    this.snaplen = Math.min(opts.snaplen, CAP_FIXED_SNAPLEN);
  }

  open(signal?: AbortSignal): Promise<void> {
    if (this.opened || signal?.aborted) return Promise.resolve();
    try {
      this.openSync();
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /**
   * Tries the filter on a handle with a small ring first. The binding activates the handle (and
   * allocates its whole ring, 256 MiB on lo) before it compiles the filter, and a handle whose
   * open() failed can never be released (see KEEP_ALIVE); a mistyped filter then costs 64 KiB,
   * not the full buffer. A probe that opened is closed normally.
   */
  private probeFilter(mod: CapModule): void {
    const probe = new mod.Cap();
    KEEP_ALIVE.push(probe);
    try {
      probe.open(this.opts.interface, this.opts.filter ?? '', PROBE_BUFFER_BYTES, Buffer.allocUnsafe(PROBE_BUFFER_BYTES));
    } catch (err) {
      throw classifyCaptureFailure('cap', this.opts.interface, this.opts.filter, String((err as Error)?.message ?? err));
    }
    probe.close();
  }

  private openSync(): void {
    if (!this.opts.promisc) {
      throw new UsageError('the cap backend always opens the interface in promiscuous mode: use --backend tcpdump with --no-promisc');
    }
    const mod = this.getModule();
    // Check the name first: for an unknown device the binding's pcap_lookupnet() prints a
    // "Warning: SIOCGIFADDR" line of its own before failing.
    let known: boolean;
    try {
      known = mod.Cap.deviceList().some((d) => d.name === this.opts.interface);
    } catch {
      known = true; // cannot list: let open() say what is wrong
    }
    if (!known) throw classifyCaptureFailure('cap', this.opts.interface, undefined, 'No such device exists');
    if (this.opts.filter) this.probeFilter(mod);
    if (this.opts.writePath !== undefined) this.writeFd = openWriteFile(this.opts.writePath);
    const cap = new mod.Cap();
    KEEP_ALIVE.push(cap);
    cap.on('packet', (nbytes: number) => this.onPacket(nbytes));
    const bufBytes = (this.opts.bufferSizeKiB ?? defaultBufferKiB(this.opts.interface)) * 1024;
    let name: string;
    try {
      name = cap.open(this.opts.interface, this.opts.filter ?? '', bufBytes, this.packetBuf);
    } catch (err) {
      cap.removeAllListeners('packet');
      this.discardWriteFile();
      throw classifyCaptureFailure('cap', this.opts.interface, this.opts.filter, String((err as Error)?.message ?? err));
    }
    this.cap = cap;
    this.opened = true;
    this.monoAnchorMs = performance.now();
    this.wallAnchorMs = Date.now();
    this.linkType = linkTypeFromCapName(name);
    this.writeFileHeader();
    this.opts.onReady?.({ backend: 'cap', interface: this.opts.interface, linkTypeName: name, snaplen: this.snaplen });
  }

  /**
   * The one place that reads the binding's buffer: one copy into the chunk as a pcap record.
   * No allocation here; the chunk is parsed on the next turn of the event loop.
   */
  private onPacket(nbytes: number): void {
    if (!this.accepting) return;
    const capLen = nbytes < this.snaplen ? nbytes : this.snaplen;
    if (this.pos + RECORD_HEADER + capLen > this.chunk.length) this.chunkFull();
    const ms = this.wallAnchorMs + (performance.now() - this.monoAnchorMs);
    const sec = Math.floor(ms / 1000);
    let usec = Math.round((ms - sec * 1000) * 1000);
    if (usec > 999_999) usec = 999_999;
    const c = this.chunk;
    const p = this.pos;
    c.writeUInt32LE(sec >>> 0, p);
    c.writeUInt32LE(usec, p + 4);
    c.writeUInt32LE(capLen, p + 8);
    // The binding does not pass the wire length on; what it captured is all we know.
    c.writeUInt32LE(nbytes, p + 12);
    this.packetBuf.copy(c, p + RECORD_HEADER, 0, capLen);
    this.pos = p + RECORD_HEADER + capLen;
    this.recorded++;
    if (this.opts.count !== undefined && this.recorded >= this.opts.count) {
      this.accepting = false;
      this.control?.stop('count');
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private writeFileHeader(): void {
    const c = this.chunk;
    c.writeUInt32LE(PCAP_MAGIC_USEC, 0);
    c.writeUInt16LE(2, 4);
    c.writeUInt16LE(4, 6);
    c.writeInt32LE(0, 8);
    c.writeUInt32LE(0, 12);
    c.writeUInt32LE(this.snaplen, 16);
    c.writeUInt32LE(this.linkType < 0 ? 0 : this.linkType, 20);
    this.pos = PCAP_HEADER;
  }

  private chunkFull(): void {
    if (this.feeder !== null) {
      this.flush();
      return;
    }
    // Not started yet: keep the chunk, take a new one.
    this.pending.push(this.chunk.subarray(0, this.pos));
    this.chunk = Buffer.allocUnsafe(CHUNK_SIZE);
    this.pos = 0;
  }

  /** Parses (and tees) what the chunk holds. */
  private flush(): void {
    if (this.feeder === null || this.pos === 0 || this.failure !== null) return;
    const n = this.pos;
    this.pos = 0;
    try {
      this.feeder.push(this.chunk, 0, n);
    } catch (err) {
      this.failure = err;
      this.accepting = false;
      this.control?.stop('error');
    }
  }

  async start(sink: FrameSink, signal: AbortSignal, tick?: FlowClockTick): Promise<LiveReadResult> {
    await this.open(signal);
    const control = new LiveControl(signal, () => {
      // Stopped: let the event loop deliver what the device already has, then close.
      setImmediate(() => setImmediate(() => stopped()));
    });
    this.control = control;
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const writeFd = this.writeFd;
    const feeder = new PcapStreamFeeder(sink, `cap ${this.opts.interface}`, writeFd === null ? null : { fd: writeFd, path: this.opts.writePath! });
    this.feeder = feeder;
    try {
      if (!this.opened) {
        return this.result(feeder, control, true);
      }
      for (const chunk of this.pending) {
        if (this.failure === null) {
          try {
            feeder.push(chunk, 0, chunk.length);
          } catch (err) {
            this.failure = err;
          }
        }
      }
      this.pending = [];
      if (this.failure !== null) control.stop('error');
      else if (!this.accepting) control.stop('count');
      control.arm(this.opts.durationSec, tick);
      await done;
      this.accepting = false;
      this.cap?.close();
      this.cap?.removeAllListeners('packet');
      this.flush();
      if (this.failure === null) {
        try {
          feeder.finish();
        } catch (err) {
          this.failure = err;
        }
      }
      if (this.failure !== null) throw this.withPartial(this.failure, feeder, control);
      return this.result(feeder, control, control.stopReason === 'signal');
    } finally {
      control.dispose();
      this.cap?.close();
      if (writeFd !== null) fs.closeSync(writeFd);
      this.writeFd = null;
    }
  }

  private result(feeder: PcapStreamFeeder, control: LiveControl, aborted: boolean): LiveReadResult {
    const base = feeder.result();
    const notes = [
      'cap backend: the binding has no drop statistics, so kernel and interface drops are unknown',
      'cap backend: timestamps are taken by portsniff (monotonic clock anchored to the wall clock at start) when the packet reaches JavaScript, not by the kernel',
      'cap backend: the binding reports the captured length only; it is also used as the original length',
    ];
    if (this.opts.snaplen > CAP_FIXED_SNAPLEN) notes.push(`cap backend: snaplen is fixed at ${CAP_FIXED_SNAPLEN} by the binding`);
    const live: LiveStats = {
      backend: 'cap',
      interface: this.opts.interface,
      linkType: this.linkType,
      snaplen: this.snaplen,
      captured: base.packets,
      droppedByKernel: null,
      droppedByInterface: null,
      engineDrops: 0,
      elapsedSec: control.elapsedSec(),
      notes,
    };
    annotateInterface(base, live);
    const r: LiveReadResult = { ...base, live };
    if (aborted) r.aborted = true;
    return r;
  }

  private withPartial(err: unknown, feeder: PcapStreamFeeder, control: LiveControl): unknown {
    return withLivePartial(err, this.result(feeder, control, false));
  }


  private discardWriteFile(): void {
    if (this.writeFd === null) return;
    discardWriteFile(this.writeFd, this.opts.writePath!);
    this.writeFd = null;
  }
}
