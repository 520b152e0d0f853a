/**
 * The engine's fast path (src/wasm/fast-path.ts, compiled to dist/wasm/fast-path.wasm by
 * scripts/build-wasm.mjs): the common packet of a known flow, walked, decoded, looked up and
 * accounted in WebAssembly, a whole run of records per call, over the same memory the flow table
 * reads. The engine takes every other record as before (engine.ts takeRecords()). Payloads the
 * classifier inspects are copied into a queue in the same memory and handed to it when the run
 * returns (Engine.deliverQueued), so such a packet no longer stops a run.
 *
 * One FastPath per engine (in-process, or a worker's). It holds the table's rows, index entries,
 * LRU links and TCP columns (FlowTableMemory) and the reader's two chunk buffers in the module's
 * memory, all allocated at construction: the memory never grows afterwards, so the views stay
 * valid. Without the compiled module (a tree built by tsc alone) create() returns null and the
 * engine runs as it did without it.
 */
import { readFileSync } from 'node:fs';
import { FAST_STATE, type FlowTableMemory } from '../flow/fast-state.js';
import { DIST_BITS, FlowIndex } from '../flow/flow-index.js';
import { LruSlots } from '../flow/lru.js';
import { ROW } from '../flow/row-layout.js';
import { FlowFlag, HISTORY_MAX, HISTORY_WORDS } from '../flow/tcp-state.js';
import { TcpFlag } from '../decode/types.js';
import { BULK_INTERFACES, BulkInterface, LinkType, RecordFormat } from '../capture/types.js';
import { PCAPNG_MAX_BLOCK_LEN } from '../capture/pcapng-reader.js';
import { RECORD_WORDS, REC_CAPLEN, REC_LINKTYPE, REC_NSEC, REC_OFFSET, REC_ORIGLEN } from './chunks.js';

// The project's lib (ES2023, no DOM) has no WebAssembly types: what this file uses of it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

interface FastPathExports {
  configure(
    rows: number, index: number, links: number, history: number, syn: number, synNsec: number, tunnelPorts: number, state: number,
    queue: number, queueBytes: number, queueIndex: number, queueEntries: number, owners: number, ifaces: number,
  ): void;
  layout(i: number): number;
  run(buf: number, p: number, end: number, format: RecordFormat, maxCapLen: number, rec: number, sec: number, bucket: number, link: number): number;
}

const PAGE_BYTES = 65536;
/**
 * The payload queue: payloads of inspected directions a run copies for the classifier (the engine
 * delivers them when the run returns). On the 5M-packet benchmark capture a run queued at most 65
 * payloads and 23 KB (runs end at new flows); the room left is for large segments (64 KiB ones on
 * loopback captures). A run stops at a payload that does not fit (engine.ts then drains and
 * handles it); pages never reached are never resident.
 */
export const QUEUE_BYTES = 256 * 1024;
export const QUEUE_ENTRIES = 1024;
/** i32 words per queue entry: slot, toServer (1/0), offset in the queue's bytes, length. */
export const QUEUE_WORDS = 4;
export const Q_SLOT = 0;
export const Q_TO_SERVER = 1;
export const Q_OFFSET = 2;
export const Q_LENGTH = 3;
/** The link types run() takes from a file's records: Ethernet, and Linux cooked captures v1 and v2 (`tcpdump -i any`). */
export type FastLinkType = typeof LinkType.ETHERNET | typeof LinkType.LINUX_SLL | typeof LinkType.LINUX_SLL2;

export function isFastLinkType(linkType: number): linkType is FastLinkType {
  return linkType === LinkType.ETHERNET || linkType === LinkType.LINUX_SLL || linkType === LinkType.LINUX_SLL2;
}

/** The owners table: what a record of each bucket value (chunks.ts) is to one of N >= 2 workers. */
export const OWNER_OTHER = 0;
export const OWNER_MINE = 1;
export const OWNER_DECODE = 2;
/** Pages of memory there can be (4 GiB): a table too large for them runs without the fast path. */
const MAX_PAGES = 65536;

/** From src/pipeline/ (tsx), dist/pipeline/ (tsc) and dist/cli/ (the bundle) alike. */
const WASM_URL = new URL('../../dist/wasm/fast-path.wasm', import.meta.url);

let compiled: object | null | undefined;

/**
 * The compiled module, once per thread; null when dist/wasm/fast-path.wasm is missing or this Node
 * has no WebAssembly (`node --jitless`).
 */
function fastPathModule(): object | null {
  if (compiled === undefined && typeof WebAssembly === 'undefined') compiled = null;
  if (compiled === undefined) {
    let bytes: Uint8Array | null = null;
    try {
      bytes = readFileSync(WASM_URL);
    } catch {
      bytes = null;
    }
    compiled = bytes === null ? null : new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** The module's layout() constants, in order, as src/flow and src/decode define them. */
function expectedLayout(): number[] {
  const b = (i32: number): number => i32 * 4;
  return [
    ROW.BYTES, b(ROW.K_A), b(ROW.K_B), b(ROW.K_PORTS), b(ROW.K_PROTO), b(ROW.K_VLAN), b(ROW.K_TUNNEL),
    ROW.F_LAST_ORDINAL * 8, ROW.F_PKTS_TO_SERVER * 8, ROW.F_PKTS_TO_CLIENT * 8, ROW.F_BYTES_TO_SERVER * 8,
    ROW.F_BYTES_TO_CLIENT * 8, ROW.F_PAYLOAD_TO_SERVER * 8, ROW.F_PAYLOAD_TO_CLIENT * 8, ROW.F_LAST_SEC * 8,
    b(ROW.I_LAST_NSEC), b(ROW.I_FLAGS), ROW.B_CLIENT_IS_A, ROW.B_INSPECT, ROW.H_HISTORY_SEEN * 2,
    FlowFlag.ServerSynAck, FlowFlag.HandshakeDone, FlowFlag.ClientSent, FlowFlag.ServerSent, FlowFlag.AwaitFirst,
    TcpFlag.FIN, TcpFlag.SYN, TcpFlag.RST, TcpFlag.ACK,
    FAST_STATE.ORDINAL, FAST_STATE.MAX_SEC, FAST_STATE.BACKSTEP, FAST_STATE.NEXT_SWEEP, FAST_STATE.LAST_SEC,
    FAST_STATE.LAST_NSEC, FAST_STATE.COUNT, FAST_STATE.BYTES, FAST_STATE.CAPTURED, FAST_STATE.TRUNCATED,
    FAST_STATE.LRU_HEAD, FAST_STATE.LRU_TAIL, FAST_STATE.INDEX_MASK, FAST_STATE.SLOT_MASK, FAST_STATE.WORDS,
    ROW.B_HISTORY_LEN, FlowFlag.ClientSyn, FlowFlag.ClientFin, FlowFlag.ServerFin, FlowFlag.ClientRst, FlowFlag.ServerRst,
    FlowFlag.RttKnown, HISTORY_MAX, HISTORY_WORDS,
    RECORD_WORDS, REC_OFFSET, REC_CAPLEN, REC_ORIGLEN, REC_NSEC, REC_LINKTYPE,
    FAST_STATE.QUEUED, QUEUE_WORDS, Q_SLOT, Q_TO_SERVER, Q_OFFSET, Q_LENGTH,
    OWNER_OTHER, OWNER_MINE, OWNER_DECODE, FAST_STATE.OTHERS, DIST_BITS,
    RecordFormat.PcapUsec, RecordFormat.PcapNsec, RecordFormat.Pcapng,
    BulkInterface.None, BulkInterface.EthernetUsec, BulkInterface.EthernetNsec, BULK_INTERFACES, PCAPNG_MAX_BLOCK_LEN,
    LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2,
    BulkInterface.SllUsec, BulkInterface.Sll2Usec, Object.keys(BulkInterface).length, FAST_STATE.LINK,
  ];
}

/** A worker's chunks (chunks.ts): bytes of one, and records its index holds. */
export interface FastPathWorker {
  chunkBytes: number;
  records: number;
}

/** Where each region lies in the module's memory (byte offsets, 64-byte aligned). */
interface FastPathLayout {
  capacity: number;
  entries: number;
  rows: number;
  index: number;
  links: number;
  history: number;
  syn: number;
  synNsec: number;
  /** 0 without decapsulation. */
  tunnelPorts: number;
  chunkBytes: number;
  chunks: number[];
  /** A worker's copy of a chunk's bytes and of its index (records, then their seconds); 0 without. */
  copy: number;
  copyBytes: number;
  indexRecords: number;
  rec: number;
  sec: number;
  bucket: number;
  owners: number;
  /** The pcapng interfaces table (BULK_INTERFACES bytes, setInterfaces()). */
  ifaces: number;
  state: number;
  queue: number;
  queueIndex: number;
  pages: number;
}

function layOut(capacity: number, chunkBytes: number, withTunnelPorts: boolean, worker: FastPathWorker | null): FastPathLayout {
  const indexRecords = worker?.records ?? 0;
  // The first 64 KiB are the module's own (its data and stack, if it ever has any).
  let at = PAGE_BYTES;
  const take = (bytes: number): number => {
    const a = Math.ceil(at / 64) * 64;
    at = a + bytes;
    return a;
  };
  const entries = FlowIndex.maxEntries(capacity);
  const rows = take(capacity * ROW.BYTES);
  const index = take(entries * 4);
  const links = take(capacity * LruSlots.BYTES_PER_SLOT);
  const history = take(capacity * HISTORY_WORDS * 2);
  const syn = take(capacity * 8);
  const synNsec = take(capacity * 4);
  const tunnelPorts = withTunnelPorts ? take(65536) : 0;
  const chunks = [take(chunkBytes), take(chunkBytes)];
  const copy = worker === null ? 0 : take(worker.chunkBytes);
  const rec = indexRecords > 0 ? take(indexRecords * RECORD_WORDS * 4) : 0;
  const sec = indexRecords > 0 ? take(indexRecords * 8) : 0;
  const bucket = indexRecords > 0 ? take(indexRecords) : 0;
  const owners = take(256);
  const ifaces = take(BULK_INTERFACES);
  const state = take(FAST_STATE.WORDS * 8);
  const queue = take(QUEUE_BYTES);
  const queueIndex = take(QUEUE_ENTRIES * QUEUE_WORDS * 4);
  return {
    capacity, entries, rows, index, links, history, syn, synNsec, tunnelPorts, chunkBytes, chunks,
    copy, copyBytes: worker?.chunkBytes ?? 0, indexRecords, rec, sec, bucket, owners, ifaces, state, queue, queueIndex, pages: Math.ceil(at / PAGE_BYTES),
  };
}

export class FastPath {
  /** The table's memory, for new FlowTable({ memory }). */
  readonly tableMemory: FlowTableMemory;
  /** The state block (flow/fast-state.ts). */
  readonly state: Float64Array;
  /** The payload queue's bytes and entries (QUEUE_WORDS each): what the last run queued (FAST_STATE.QUEUED). */
  readonly queue: Uint8Array;
  readonly queueIndex: Int32Array;
  private readonly x: FastPathExports;
  private readonly memory: ArrayBuffer;
  /** The reader's two chunk buffers (readBuffer()). */
  private readonly chunks: Uint8Array[];
  private nextChunk = 0;
  /** A worker's copy of its chunk's bytes and index (chunks.ts), for runIndexed(); empty without. */
  readonly chunkCopy: Uint8Array;
  readonly rec: Uint32Array;
  readonly sec: Float64Array;
  /** The chunk's buckets (one of N >= 2 workers), and what each bucket value is to this worker. */
  readonly bucket: Uint8Array;
  readonly owners: Uint8Array;
  private readonly ifaces: Uint8Array;
  private readonly recAt: number;
  private readonly secAt: number;
  private readonly bucketAt: number;

  /**
   * A fast path for a table of `capacity` slots (tableCapacity()), with two chunk buffers of
   * `chunkBytes` for the reader and the decoder's UDP tunnel ports (null: decapsulation off);
   * `worker`: also room for a copy of one of a worker's chunks and of its index (runIndexed()).
   * Null when the compiled module is missing.
   */
  static create(capacity: number, chunkBytes: number, tunnelPorts: Uint8Array | null, worker: FastPathWorker | null = null): FastPath | null {
    const module = fastPathModule();
    if (module === null) return null;
    const layout = layOut(capacity, chunkBytes, tunnelPorts !== null, worker);
    if (layout.pages > MAX_PAGES) return null;
    // Created at its final size and never grown: growing detaches the views of a memory, and once
    // any buffer has been detached V8 checks every typed array access in the process for it.
    let memory: object & { buffer: ArrayBuffer };
    try {
      memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages });
    } catch {
      // Address space refused (a very large --max-flows, many engines at once): the engine alone.
      return null;
    }
    return new FastPath(module, memory, layout, tunnelPorts);
  }

  private constructor(module: object, wasmMemory: object & { buffer: ArrayBuffer }, layout: FastPathLayout, tunnelPorts: Uint8Array | null) {
    const x = new WebAssembly.Instance(module, { env: { memory: wasmMemory } }).exports as FastPathExports;
    const memory = wasmMemory.buffer;
    const want = expectedLayout();
    const got = want.map((_, i) => x.layout(i));
    if (got.some((v, i) => v !== want[i]) || x.layout(want.length) !== -1) {
      throw new Error(`fast path: dist/wasm/fast-path.wasm does not match the flow row layout (rebuild: npm run build): ${got.join(',')} vs ${want.join(',')}`);
    }
    x.configure(
      layout.rows, layout.index, layout.links, layout.history, layout.syn, layout.synNsec, layout.tunnelPorts, layout.state,
      layout.queue, QUEUE_BYTES, layout.queueIndex, QUEUE_ENTRIES, layout.owners, layout.ifaces,
    );
    this.x = x;
    this.memory = memory;
    if (tunnelPorts !== null) new Uint8Array(memory, layout.tunnelPorts, tunnelPorts.length).set(tunnelPorts);
    this.tableMemory = {
      rows: new Float64Array(memory, layout.rows, layout.capacity * ROW.F64),
      index: new Int32Array(memory, layout.index, layout.entries),
      links: new Int32Array(memory, layout.links, layout.capacity * 2),
      history: new Uint16Array(memory, layout.history, layout.capacity * HISTORY_WORDS),
      synOrRtt: new Float64Array(memory, layout.syn, layout.capacity),
      synNsec: new Uint32Array(memory, layout.synNsec, layout.capacity),
    };
    this.state = new Float64Array(memory, layout.state, FAST_STATE.WORDS);
    this.queue = new Uint8Array(memory, layout.queue, QUEUE_BYTES);
    this.queueIndex = new Int32Array(memory, layout.queueIndex, QUEUE_ENTRIES * QUEUE_WORDS);
    this.chunks = layout.chunks.map((at) => new Uint8Array(memory, at, layout.chunkBytes));
    this.chunkCopy = new Uint8Array(memory, layout.copy, layout.copyBytes);
    this.recAt = layout.rec;
    this.secAt = layout.sec;
    this.rec = new Uint32Array(memory, layout.rec, layout.indexRecords * RECORD_WORDS);
    this.sec = new Float64Array(memory, layout.sec, layout.indexRecords);
    this.bucketAt = layout.bucket;
    this.bucket = new Uint8Array(memory, layout.bucket, layout.indexRecords);
    this.owners = new Uint8Array(memory, layout.owners, 256);
    this.ifaces = new Uint8Array(memory, layout.ifaces, BULK_INTERFACES);
  }

  /** The pcapng section's interfaces (FrameSink.pcapngInterfaces()), for run() over pcapng blocks. */
  setInterfaces(kinds: Uint8Array): void {
    this.ifaces.set(kinds.length > BULK_INTERFACES ? kinds.subarray(0, BULK_INTERFACES) : kinds);
    if (kinds.length < BULK_INTERFACES) this.ifaces.fill(BulkInterface.None, kinds.length);
  }

  /**
   * The two chunk buffers in turn, for the reader: records read into them can take the fast path.
   * An engine's reads follow one another (one file per run; a worker's file mode likewise), so a
   * later read gets the same two buffers again.
   */
  readBuffer(bytes: number): Uint8Array | null {
    const c = this.chunks[this.nextChunk]!;
    if (c.length !== bytes) return null;
    this.nextChunk = (this.nextChunk + 1) % this.chunks.length;
    return c;
  }

  /** True when `buf` lies in this fast path's memory. */
  holds(buf: Uint8Array): boolean {
    return buf.buffer === this.memory;
  }

  /**
   * Takes the records of buf[p, end) from `p` until the first one the engine must handle (see the
   * module's comment); returns where that one starts. The caller wrote the state block first and
   * reads it back after.
   */
  run(buf: Uint8Array, p: number, end: number, format: RecordFormat, maxCapLen: number, link: FastLinkType): number {
    return this.x.run(buf.byteOffset, p, end, format, maxCapLen, 0, 0, 0, link);
  }

  /**
   * The same over records i, i + 1, ... below `count` of the chunk index copied into `rec` and `sec`
   * (offsets into `buf`); returns the index of the first record it did not take. `sharded` (one of
   * N >= 2 workers): the chunk's buckets were copied into `bucket` too, and `owners` says which
   * records are this worker's; the others' only advance its clock.
   */
  runIndexed(buf: Uint8Array, i: number, count: number, sharded: boolean): number {
    return this.x.run(buf.byteOffset, i, count, RecordFormat.PcapUsec, 0, this.recAt, this.secAt, sharded ? this.bucketAt : 0, LinkType.ETHERNET);
  }
}
