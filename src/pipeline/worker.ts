/**
 * Worker thread entry: hosts one Engine per run, nothing else.
 *
 * For every record of every chunk it picks the owning worker (shard.ts). Its own records go through
 * the full Engine path with their capture-wide ordinal; for the others it only advances the flow
 * clock (table.clock), so idle sweeps happen at the same ordinals in every worker and in the
 * single-threaded engine. Runs of records go through the engine's fast path first
 * (Engine.takeIndexed), which does the same for the worker's plain records and the others'. When a
 * chunk is done it releases it (control counter) and reports the flows it ended with their end keys
 * and its watermark (the next ordinal). Statistics go out on a
 * wall-clock timer, never per packet.
 *
 * With one worker and a capture file the worker reads the file itself ('file', worker-file.ts): the
 * in-process engine's loop on this thread, no chunks.
 *
 * A run starts with 'init' and ends with 'end' (answered by 'final'); the thread then waits for
 * the next 'init', so that a process running many pipelines (tests) need not start new threads.
 * A failure is reported once ('error') and the thread stops listening; the main thread ends it.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorRecord } from '../errors.js';
import { Engine } from './engine.js';
import type { ClassifiedFlow, EndedFlow, FlowTally, Snapshot } from './results.js';
import { buildClassification } from './classification.js';
import { ChunkView, REC_CAPLEN, REC_LINKTYPE, REC_NSEC, REC_OFFSET, REC_ORIGLEN, RECORD_WORDS } from './chunks.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import type { PortStatsData } from './port-stats.js';
import { PAIR_BUCKETS } from '../flow/key.js';
import { NO_PAIR_BUCKET, ShardPicker, SLOW_BUCKET } from './shard.js';
import { OWNER_DECODE, OWNER_MINE, OWNER_OTHER } from './fast-path.js';
import { nextSnapshotDelay } from './snapshot-feed.js';
import { FileReading } from './worker-file.js';

/** Flows per 'flows' post while the end of input ends every live flow. */
const END_FLUSH_FLOWS = 1024;

/** One run: the engine and everything around it. */
class Run {
  readonly engine: Engine;
  private readonly init: WorkerInit;
  private readonly me: number;
  private readonly control: Int32Array;
  private readonly chunks: ChunkView[];
  private readonly picker: ShardPicker;
  private flows: EndedFlow[] = [];
  private keys: number[] = [];
  /** In engine.finish() (after 'end'): ended flows go out in batches of END_FLUSH_FLOWS. */
  private finishing = false;
  private withLive = false;
  /** Worker of each bucket value (slow records: every worker decodes them). */
  private readonly ownerOf = new Uint8Array(256);
  /** This thread's copy of the chunk being processed. */
  private local = new Uint8Array(0);
  /** Where the engine's fast path takes a copy of the chunk, else null. */
  private readonly fast: { bytes: Uint8Array; rec: Uint32Array; sec: Float64Array; bucket: Uint8Array; owners: Uint8Array } | null;
  private hookDone = false;
  private timer: NodeJS.Timeout;
  private stopped = false;
  /** The file this worker is reading itself ('file'). */
  private reading: FileReading | null = null;

  constructor(
    init: WorkerInit,
    private readonly post: (m: FromWorker) => void,
    /** Ends the run as a failed worker (what an exception in a message handler does). */
    private readonly failRun: (err: unknown) => void,
  ) {
    this.init = init;
    this.me = init.index;
    this.control = new Int32Array(init.control);
    this.chunks = init.chunks.map((b, id) => new ChunkView(id, b));
    this.picker = new ShardPicker(init.workers, init.engine.decap);
    for (let b = 0; b < 256; b++) this.ownerOf[b] = b < PAIR_BUCKETS ? b % init.workers : b === SLOW_BUCKET ? this.me : 0;
    const classification = buildClassification(init.classification);
    const chunk = this.chunks[0];
    this.engine = new Engine({
      ...init.engine,
      shard: { index: init.index, workers: init.workers },
      // The fast path: the only worker's, for the file it reads itself and for the chunks the main
      // thread hands over; one of N >= 2 workers', for its own records of each chunk.
      ...(init.workers === 1 || chunk !== undefined
        ? { fastPath: true, ...(chunk !== undefined ? { fastPathWorker: { chunkBytes: chunk.size, records: chunk.capacity } } : {}) }
        : {}),
      classifier: classification.makeClassifier(init.engine.maxFlows),
      documentedPorts: classification.documentedPorts,
      ...(init.flows && init.largestRecords !== undefined ? { largestRecords: init.largestRecords, everyFlow: init.flowsAsJson === true } : {}),
      ...(init.flows
        ? {
            onFlow: (f: ClassifiedFlow, trigger: number, phase: number, last: number, forSummary: boolean) => {
              const asJson = init.flowsAsJson === true;
              if (asJson) this.queueFlow(JSON.stringify(f), trigger, phase, last);
              // With lines, records cross only for the text summary's lists (largestRecords).
              if (!asJson || (init.largestRecords !== undefined && forSummary)) this.queueFlow(f, trigger, phase, last);
            },
          }
        : {}),
      // The engine reuses its tally: a copy is queued (the classification's parts are shared, frozen).
      ...(init.tallies === true
        ? { onTally: (x: FlowTally, trigger: number, phase: number, last: number) => this.queueFlow({ ...x, packets: { ...x.packets! }, bytes: { ...x.bytes! }, payloadBytes: { ...x.payloadBytes } }, trigger, phase, last) }
        : {}),
    });
    this.fast = this.engine.fastChunk();
    if (this.fast !== null) {
      for (let b = 0; b < 256; b++) {
        const slow = b === SLOW_BUCKET || (b >= PAIR_BUCKETS && b !== NO_PAIR_BUCKET);
        this.fast.owners[b] = slow ? OWNER_DECODE : this.ownerOf[b] === this.me ? OWNER_MINE : OWNER_OTHER;
      }
    }
    this.timer = this.scheduleStats(init.statsIntervalMs);
  }

  /** Statistics on a wall-clock timer, stretched when a snapshot is costly (snapshot-feed.ts). */
  private scheduleStats(delay: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const t0 = performance.now();
      this.post({ t: 'stats', snapshot: this.snapshot() });
      if (!this.stopped) this.timer = this.scheduleStats(nextSnapshotDelay(this.init.statsIntervalMs, performance.now() - t0));
    }, delay);
    timer.unref();
    return timer;
  }

  snapshot(): Snapshot {
    const s = this.engine.snapshot(this.withLive, this.withLive && this.init.detail);
    s.workers = this.init.workers;
    return s;
  }

  private queueFlow(f: EndedFlow, trigger: number, phase: number, last: number): void {
    this.flows.push(f);
    this.keys.push(trigger, phase, last);
    // The end of input ends every live flow at once: post them as they come, not all in 'final'.
    if (this.finishing && this.flows.length >= END_FLUSH_FLOWS) this.post({ t: 'flows', ...this.takeFlows() });
  }

  takeFlows(): { flows: EndedFlow[] | null; keys: number[] | null } {
    if ((!this.init.flows && this.init.tallies !== true) || this.flows.length === 0) return { flows: null, keys: null };
    const out = { flows: this.flows, keys: this.keys };
    this.flows = [];
    this.keys = [];
    return out;
  }

  private processChunk(id: number, count: number, base: number): void {
    const c = this.chunks[id]!;
    const rec = c.rec;
    const sec = c.sec;
    const bucket = c.bucket;
    const engine = this.engine;
    // The bytes were written by the reading thread's core. Reading them where they are costs cache
    // misses on this core (measured with one worker on the 5M-packet capture: 2.19 s of chunk work
    // against 1.84 s after this copy); one bulk copy into this thread's own buffer streams them
    // over at memory bandwidth (~85 ms per 1.7 GB) and everything after works on cache-hot local
    // memory. Offset 0 to 0: a copy out of shared memory is only fast when both sides are equally
    // aligned.
    const last = (count - 1) * RECORD_WORDS;
    const used = count > 0 ? rec[last + REC_OFFSET]! + rec[last + REC_CAPLEN]! : 0;
    // A worker with a fast path copies into the fast path's memory, where its runs read the bytes.
    const fast = this.fast !== null && this.fast.bytes.length >= c.size && this.fast.rec.length >= count * RECORD_WORDS ? this.fast : null;
    if (fast === null && this.local.length < c.size) this.local = new Uint8Array(c.size);
    const u8 = fast !== null ? fast.bytes : this.local;
    u8.set(used === c.size ? c.u8 : c.u8.subarray(0, used), 0);
    // The only worker owns every record (the reader computed no buckets): the in-process engine's
    // loop, quotes of ICMP errors credited here as there. One of N >= 2 picks its part of each
    // record (handleShardRecord). Either way runs of records go through the fast path first when
    // there is one (its copy of the chunk is `u8` then): the worker's plain records, and with N >= 2
    // the others' time; it stops at one the engine must handle (or every worker must decode).
    const sharded = this.init.workers > 1;
    if (fast !== null) {
      fast.rec.set(rec.subarray(0, count * RECORD_WORDS));
      fast.sec.set(sec.subarray(0, count));
      if (sharded) fast.bucket.set(bucket.subarray(0, count));
    }
    for (let i = 0; i < count; ) {
      let stop = count;
      if (fast !== null) {
        i = engine.takeIndexed(u8, i, count, base, sharded);
        stop = Math.min(count, i + 1 + engine.recordsBeforeOffer);
      }
      for (; i < stop; i++) {
        if (sharded) {
          this.handleShardRecord(i, u8, rec, sec, bucket, base);
        } else {
          const r = i * RECORD_WORDS;
          engine.handle(base + i, u8, rec[r + REC_OFFSET]!, rec[r + REC_CAPLEN]!, rec[r + REC_ORIGLEN]!, sec[i]!, rec[r + REC_NSEC]!, rec[r + REC_LINKTYPE]!, true);
        }
      }
    }
  }

  /** Record i of a chunk (N >= 2 workers), without the fast path: this worker's part of it. */
  private handleShardRecord(i: number, u8: Uint8Array, rec: Uint32Array, sec: Float64Array, bucket: Uint8Array, base: number): void {
    const me = this.me;
    const engine = this.engine;
    const table = engine.table;
    const picker = this.picker;
    const r = i * RECORD_WORDS;
    const b = bucket[i]!;
    const s = sec[i]!;
    if (b === SLOW_BUCKET) {
      // Needs the decoder to tell its pair (and an ICMP error's quoted pair): every worker runs it.
      const off = rec[r + REC_OFFSET]!;
      const capLen = rec[r + REC_CAPLEN]!;
      const origLen = rec[r + REC_ORIGLEN]!;
      const linkType = rec[r + REC_LINKTYPE]!;
      const owner = picker.owner(b, u8, off, capLen, origLen, linkType);
      const quote = picker.quoteShard;
      if (owner === me) {
        engine.handle(base + i, u8, off, capLen, origLen, s, rec[r + REC_NSEC]!, linkType, quote === me);
      } else {
        engine.noteTime(s, rec[r + REC_NSEC]!);
        table.clock(s, base + i);
        if (quote === me) table.creditQuoted(picker.decoded!);
        // Levels inside a tunnel may be this worker's even when the frame level is not.
        if (picker.tunnelled) engine.handleInner(base + i, u8, off, capLen, origLen, s, rec[r + REC_NSEC]!, linkType);
      }
    } else if (this.ownerOf[b] === me) {
      engine.handle(base + i, u8, rec[r + REC_OFFSET]!, rec[r + REC_CAPLEN]!, rec[r + REC_ORIGLEN]!, s, rec[r + REC_NSEC]!, rec[r + REC_LINKTYPE]!, false);
    } else {
      // Another worker's record: only its time matters here (flow clock, capture time span).
      engine.noteTime(s, rec[r + REC_NSEC]!);
      table.clock(s, base + i);
    }
  }

  /** Tests of the failure paths: misbehave once, when this worker has processed enough records. */
  private testHook(): void {
    const hook = this.init.failureHook;
    if (hook !== undefined && !this.hookDone && hook.worker === this.me && this.engine.packets >= hook.afterPackets) {
      this.hookDone = true;
      if (hook.kind === 'stall') stall(hook.release);
      else failNow(this.me, hook.kind, this.engine.packets);
    }
  }

  private readFile(m: Extract<ToWorker, { t: 'file' }>): void {
    if (this.reading !== null) throw new Error(`worker ${this.me}: 'file' while reading a file`);
    const reading = new FileReading(
      {
        engine: this.engine,
        post: this.post,
        takeFlows: () => this.takeFlows(),
        pendingFlows: () => this.flows.length,
        beforeRead: () => this.testHook(),
        fail: this.failRun,
      },
      m.paused,
    );
    if (m.stopped) reading.stop();
    this.reading = reading;
    reading
      .run(m.path, m.base, m.pipe)
      .catch(this.failRun)
      .finally(() => {
        if (this.reading === reading) this.reading = null;
      });
  }

  /** Handles one message; returns true when the run is over (after 'end'). */
  onMessage(m: ToWorker): boolean {
    switch (m.t) {
      case 'file':
        this.readFile(m);
        return false;
      case 'pause':
        this.reading?.setPaused(m.on);
        return false;
      case 'stop':
        this.reading?.stop();
        return false;
      case 'ack':
        this.reading?.ack();
        return false;
      case 'chunk': {
        this.testHook();
        this.processChunk(m.id, m.count, m.base);
        Atomics.sub(this.control, m.id, 1);
        this.post({ t: 'progress', id: m.id, watermark: m.base + m.count, ...this.takeFlows() });
        return false;
      }
      case 'buffers':
        this.chunks[m.id] = new ChunkView(m.id, m.buffers);
        return false;
      case 'tick':
        this.engine.table.sweepIfDue(m.sec);
        return false;
      case 'snapshots':
        this.withLive = m.on;
        // Starts the live view before the first record (in-process.ts says why).
        if (m.on && this.init.detail) this.engine.snapshot(true, true);
        return false;
      case 'end':
        // The main thread waits for the answer to 'file' before it ends the run.
        if (this.reading !== null) throw new Error(`worker ${this.me}: 'end' while reading a file`);
        this.finishing = true;
        this.engine.finish();
        this.stop();
        this.post({ t: 'final', snapshot: this.snapshot(), ...this.takeFlows(), ports: this.engine.ports.toData(), fastRecords: this.engine.fastRecords });
        return true;
      case 'init':
        throw new Error(`worker ${this.me}: 'init' during a run`);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.reading?.stop();
    this.reading = null;
  }
}

/** Test hook: blocks this thread until the test sets release[0]. */
function stall(release: SharedArrayBuffer | undefined): void {
  if (release === undefined) return;
  const flag = new Int32Array(release);
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
}

function failNow(me: number, kind: 'throw' | 'exit' | 'oom', packets: number): void {
  if (kind === 'exit') process.exit(70);
  if (kind === 'oom') {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
  }
  throw new Error(`test hook: worker ${me} fails after ${packets} packets`);
}

function serve(): void {
  const port = parentPort!;
  const post = (m: FromWorker): void => port.postMessage(m);
  let run: Run | null = null;
  const onMessage = (m: ToWorker): void => {
    try {
      if (m.t === 'init') {
        run?.stop();
        run = new Run(m.init, post, fail);
        return;
      }
      if (run === null) return; // leftovers of a run that already ended
      if (run.onMessage(m)) run = null;
    } catch (err) {
      fail(err);
    }
  };
  /** Reports a failure once, with what the engine had counted, and stops listening. */
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    let snap: Snapshot | null = null;
    let ports: PortStatsData | null = null;
    try {
      snap = run?.snapshot() ?? null;
      ports = run?.engine.ports.toData() ?? null;
    } catch {
      /* the engine is in no state to report */
    }
    run?.stop();
    run = null;
    post({ t: 'error', error: toErrorRecord(err), snapshot: snap, ports });
    port.off('message', onMessage);
    port.close();
  };
  port.on('message', onMessage);
}

serve();
