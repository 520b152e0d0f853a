/**
 * The in-process capture engine: decode -> flow table -> classification, fed record by record by a
 * capture reader (it is a FrameSink). Worker threads host one of these each; with `--workers 0`
 * the CLI uses it directly. Produces finished flow records (through `onFlow`), a final summary and
 * periodic snapshots, and knows nothing about terminals or output formats.
 *
 * Every record has an ordinal (its 0-based position in the capture). As a FrameSink the engine
 * numbers records itself; a worker that sees only some records in full calls handle() with the
 * capture-wide ordinal and advances the flow clock for the others (see pipeline/worker.ts).
 * Finished flows come out in end-key order (flow/lifetimes.ts "End order"), with their key.
 * A tunnelled frame is several flow packets, one per level (tunnel-levels.ts).
 */
import { AnomalyCounters, ANOMALY_COUNT } from '../util/anomaly.js';
import { RecordFormat, type FrameSink } from '../capture/types.js';
import type { DecapOptions } from '../decode/decap-options.js';
import { PacketDecoder } from '../decode/decoder.js';
import { DecodeStatus } from '../decode/types.js';
import { END_OF_CAPTURE_TRIGGER, FlowEndReason, FlowTable, tableCapacity, type FlowObserver } from '../flow/table.js';
import { FAST_STATE } from '../flow/fast-state.js';
import { READ_BUFFER_BYTES } from '../capture/file.js';
import { FastPath, isFastLinkType, Q_LENGTH, Q_OFFSET, Q_SLOT, Q_TO_SERVER, QUEUE_WORDS, type FastLinkType, type FastPathWorker } from './fast-path.js';
import { describeFlow, type FlowRecord } from '../flow/record.js';
import type { Classification, FlowClassifier } from '../classify/types.js';
import { ServiceStats } from './service-stats.js';
import { LiveView } from './live-view.js';
import { PortStats } from './port-stats.js';
import type { ClassifiedFlow, EngineTotals, FlowTally, Snapshot } from './results.js';
import { processInnerLevels, type LevelShard } from './tunnel-levels.js';
import { LargestFlows } from './largest-flows.js';
import { ipProtoName } from '../util/ip-proto.js';

export type { ClassifiedFlow, EngineTotals } from './results.js';

/** LINKTYPE_ETHERNET: the fast path's frames. */
const LINKTYPE_ETHERNET = 1;
/** Records the fast path must take in one call for the next offer to come at once. */
const LONG_FAST_RUN = 4;
/** Most records left to frame() between offers after short runs (the gap doubles from 1). */
const MAX_FAST_BACKOFF = 63;

export interface EngineOptions {
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  classifier?: FlowClassifier | null;
  documentedPorts?: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
  /**
   * Receives each finished flow, in the order flows end, with its end key: the ordinal of the record
   * that ended it (END_OF_CAPTURE_TRIGGER at the end), the phase (its FlowEndReason) and the ordinal
   * of its last packet. `forSummary`: whether the text summary's lists want it (largestRecords;
   * always true without).
   */
  onFlow?: (flow: ClassifiedFlow, trigger: number, phase: number, last: number, forSummary: boolean) => void;
  /**
   * With onFlow: records only for the N largest flows and the first N exposure violations (the text
   * summary's lists, largest-flows.ts); other flows end without one. Default: a record for every flow.
   */
  largestRecords?: number;
  /** With largestRecords: every flow still gets a record (a flow log), `forSummary` telling which the lists want. */
  everyFlow?: boolean;
  /**
   * Receives each finished flow's tally (its transport, counts and verdict; no record is built for
   * it), in the order flows end, with the same end key as onFlow. The object is reused: read it
   * during the call.
   */
  onTally?: (tally: FlowTally, trigger: number, phase: number, last: number) => void;
  /** Which encapsulations to open (`--decap`, `--vxlan-port`); default: all. */
  decap?: DecapOptions;
  /** Worker threads only: this engine processes only the tunnel levels whose host pair it owns. */
  shard?: LevelShard;
  /**
   * Take the common packet of a known flow through the WebAssembly fast path (fast-path.ts): the
   * records the reader reads into its buffers (readBuffer(), takeRecords()) and a worker's chunks
   * (takeIndexed()); outputs are the same either way. Default false.
   */
  fastPath?: boolean;
  /**
   * A worker's fast path (fastPath true): the size of its chunks and the records their index holds,
   * for takeIndexed() (the reader's buffers for takeRecords() are there in any case).
   */
  fastPathWorker?: FastPathWorker;
}

export const DEFAULT_ENGINE_OPTIONS = { maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0 } as const;

export class Engine implements FrameSink, FlowObserver {
  readonly decoder: PacketDecoder;
  readonly table: FlowTable;
  readonly anomalies = new AnomalyCounters();
  readonly services = new ServiceStats();
  /** Documented ports seen and unknown server ports, for the coverage report. */
  readonly ports = new PortStats();
  private readonly classifier: FlowClassifier | null;
  private readonly onFlow: ((flow: ClassifiedFlow, trigger: number, phase: number, last: number, forSummary: boolean) => void) | null;
  private readonly largest: LargestFlows | null;
  private readonly everyFlow: boolean;
  private readonly onTally: ((tally: FlowTally, trigger: number, phase: number, last: number) => void) | null;
  /** The tally handed to onTally, refilled for every flow. */
  private readonly tally = { transport: '', packets: { toServer: 0, toClient: 0 }, bytes: { toServer: 0, toClient: 0 }, payloadBytes: { toServer: 0, toClient: 0 } } as FlowTally & {
    packets: { toServer: number; toClient: number };
    bytes: { toServer: number; toClient: number };
  };
  private readonly linkTypePackets = new Float64Array(65536);
  /** Link types with packets, in the order first seen (totals() lists these, not 65,536 counters). */
  private readonly linkTypesSeen: number[] = [];
  private readonly shard: LevelShard | null;
  /** Live-flow bookkeeping for snapshots; created by the first snapshot that includes live flows. */
  private liveView: LiveView | null = null;

  /** The WebAssembly fast path (fastPath option), or null. */
  private readonly fast: FastPath | null;
  /** Records the last takeRecords() call took, and how many to deliver through frame() before the next offer. */
  recordsTaken = 0;
  recordsBeforeOffer = 0;
  private fastBackoff = 0;
  /** Records the fast path has taken in all (tests, benchmarks). */
  fastRecords = 0;

  /** Ordinal of the next record fed through frame(). */
  nextOrdinal = 0;
  /** Records processed in full by this engine. */
  packets = 0;
  /**
   * Wire bytes and captured bytes of those records. In a typed array, not two fields: the fast path
   * adds doubles to them, and a field V8 holds as a small integer (a capture under 1 GiB) slows
   * every later use once a double is stored into it (+3% on the flow flood).
   */
  private readonly frameBytes = new Float64Array(2);

  get bytes(): number {
    return this.frameBytes[0]!;
  }

  get capturedBytes(): number {
    return this.frameBytes[1]!;
  }
  truncatedFrames = 0;
  notIp = 0;
  private firstSec = -1;
  private firstNsec = 0;
  private lastSec = -1;
  private lastNsec = 0;

  constructor(opts: EngineOptions) {
    this.decoder = new PacketDecoder(opts.decap);
    this.shard = opts.shard ?? null;
    this.fast = opts.fastPath === true ? FastPath.create(tableCapacity(opts.maxFlows), READ_BUFFER_BYTES, this.decoder.tunnelPorts, opts.fastPathWorker ?? null) : null;
    const tableOpts = {
      maxFlows: opts.maxFlows,
      idleTimeout: opts.idleTimeout,
      activeTimeout: opts.activeTimeout,
      ...(this.fast !== null ? { memory: this.fast.tableMemory } : {}),
    };
    this.takeRecords = this.fast !== null ? this.takeFast : undefined;
    this.pcapngInterfaces = this.fast !== null ? this.setPcapngInterfaces : undefined;
    this.table = new FlowTable(opts.documentedPorts ? { ...tableOpts, documentedPorts: opts.documentedPorts } : tableOpts);
    this.table.setObserver(this);
    this.classifier = opts.classifier ?? null;
    if (this.classifier?.capacity !== undefined && this.classifier.capacity < this.table.capacity) {
      // Slots past its end would read nothing: size it with tableCapacity(maxFlows).
      throw new RangeError(`engine: a classifier for ${this.classifier.capacity} flow slots, a table of ${this.table.capacity}`);
    }
    this.onFlow = opts.onFlow ?? null;
    this.largest = this.onFlow !== null && opts.largestRecords !== undefined ? new LargestFlows(opts.largestRecords) : null;
    this.everyFlow = opts.everyFlow === true;
    this.onTally = opts.onTally ?? null;
  }

  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number): void {
    this.handle(this.nextOrdinal++, buf, offset, capLen, origLen, tsSec, tsNsec, linkType, true);
  }

  /** FrameSink: the reader's buffers, from the fast path's memory when there is one. */
  readBuffer(bytes: number): Uint8Array | null {
    return this.fast?.readBuffer(bytes) ?? null;
  }

  /**
   * FrameSink (set only with a fast path): the fast path takes what it can of the records at
   * buf[p, end): packets of known flows that change nothing but counters (fast-path.ts). Everything
   * it does for a record is what handle() would have done; the record it stops at goes through frame().
   */
  readonly takeRecords: ((buf: Uint8Array, p: number, end: number, format: RecordFormat, maxCapLen: number, linkType: number) => number) | undefined;

  /** FrameSink (set only with a fast path): the interfaces of the pcapng section being read. */
  readonly pcapngInterfaces: ((kinds: Uint8Array) => void) | undefined;

  private setPcapngInterfaces(kinds: Uint8Array): void {
    this.fast!.setInterfaces(kinds);
  }

  private takeFast(buf: Uint8Array, p: number, end: number, format: RecordFormat, maxCapLen: number, linkType: number): number {
    const fast = this.fast!;
    this.recordsTaken = 0;
    // Ethernet frames and Linux cooked ones (pcapng: as the interfaces table says) in the fast
    // path's own buffers only (a record joined in the reader's spill buffer is not).
    const pcapng = format === RecordFormat.Pcapng;
    if ((!pcapng && !isFastLinkType(linkType)) || !fast.holds(buf)) {
      this.recordsBeforeOffer = MAX_FAST_BACKOFF;
      return p;
    }
    if (!this.startRun(this.nextOrdinal)) return p;
    const q = fast.run(buf, p, end, format, maxCapLen, pcapng ? LINKTYPE_ETHERNET : (linkType as FastLinkType));
    // | 0: read back as the small integers the fields hold (see endRun). The module says which link
    // type the records it took were (one per run: a pcapng section's interfaces may differ).
    const n = q === p ? 0 : fast.state[FAST_STATE.COUNT]! | 0;
    this.endRun(n, this.nextOrdinal + n - 1, n, n === 0 ? LINKTYPE_ETHERNET : ((fast.state[FAST_STATE.LINK]! | 0) as FastLinkType));
    this.nextOrdinal += n;
    return q;
  }

  /**
   * A worker's fast path (fastPathWorker): takes what it can of records i, i + 1, ... below
   * `count` of the chunk whose bytes and index were copied into fastChunk() (`buf`: its bytes);
   * record i has ordinal `base` + i. Returns the first record it did not take;
   * the caller hands that one and `recordsBeforeOffer` more to handle() before offering again.
   */
  takeIndexed(buf: Uint8Array, i: number, count: number, base: number, sharded = false): number {
    this.recordsTaken = 0;
    if (!this.startRun(base + i)) return i;
    const j = this.fast!.runIndexed(buf, i, count, sharded);
    // | 0: read back as the small integer the field holds (see endRun).
    this.endRun(sharded ? j - i - (this.fast!.state[FAST_STATE.OTHERS]! | 0) : j - i, base + j - 1, j - i);
    return j;
  }

  /**
   * Writes the state a fast-path run starting at record `ordinal` reads; false before the engine's
   * first record, which handle() takes (capture start, link type seen).
   */
  private startRun(ordinal: number): boolean {
    if (this.firstSec < 0) {
      this.recordsBeforeOffer = 0;
      return false;
    }
    const st = this.fast!.state;
    st[FAST_STATE.ORDINAL] = ordinal;
    st[FAST_STATE.LAST_SEC] = this.lastSec;
    st[FAST_STATE.LAST_NSEC] = this.lastNsec;
    this.table.saveFastState(st);
    return true;
  }

  /**
   * After a run that took `n` records and passed `passed` (those and other workers' records), the
   * last of them `lastOrdinal`: the back-off, and the engine's and the table's state taken back.
   * Values come back as the types the fields hold (| 0 for integers): a double stored into a field
   * V8 keeps as a small integer slows every later use of that field.
   */
  private endRun(n: number, lastOrdinal: number, passed = n, linkType: FastLinkType = LINKTYPE_ETHERNET): void {
    // A call pays for itself over a long run; after a short one (a flood of new flows, whose packets
    // are nearly all the engine's), the next records go straight to handle(), more each time. Other
    // workers' records a run passed do not count: they cost the same either way.
    this.fastBackoff = n >= LONG_FAST_RUN ? 0 : Math.min(this.fastBackoff * 2 + 1, MAX_FAST_BACKOFF);
    this.recordsBeforeOffer = this.fastBackoff;
    if (passed === 0) return;
    const st = this.fast!.state;
    this.recordsTaken = n;
    this.fastRecords += n;
    this.packets += n;
    this.frameBytes[0]! += st[FAST_STATE.BYTES]!;
    this.frameBytes[1]! += st[FAST_STATE.CAPTURED]!;
    this.truncatedFrames += st[FAST_STATE.TRUNCATED]! | 0;
    // The first frame of its link type this engine counts may be one the module took (a worker whose
    // first records were other workers').
    if (n > 0 && this.linkTypePackets[linkType]! === 0) this.linkTypesSeen.push(linkType);
    this.linkTypePackets[linkType]! += n;
    this.lastSec = st[FAST_STATE.LAST_SEC]!;
    this.lastNsec = st[FAST_STATE.LAST_NSEC]! | 0;
    this.table.loadFastState(st, lastOrdinal);
    const queued = st[FAST_STATE.QUEUED]! | 0;
    if (queued > 0) this.deliverQueued(queued);
  }

  /**
   * Hands the payloads the last run queued to the classifier, in the order of their packets. No flow
   * started or ended during the run, so these are the calls FlowTable.process() would have made,
   * but for a payload whose direction an earlier one turned off: that one is dropped, as
   * process() would not have passed it.
   */
  private deliverQueued(queued: number): void {
    const fast = this.fast!;
    const q = fast.queueIndex;
    const t = this.table;
    for (let i = 0, e = 0; i < queued; i++, e += QUEUE_WORDS) {
      const slot = q[e + Q_SLOT]!;
      const toServer = q[e + Q_TO_SERVER] === 1;
      if (t.inspecting(slot, toServer)) this.payload(slot, toServer, fast.queue, q[e + Q_OFFSET]!, q[e + Q_LENGTH]!);
    }
  }

  /**
   * Where a worker copies a chunk's bytes and index for takeIndexed() (fastPathWorker), or null
   * without a fast path.
   */
  fastChunk(): { bytes: Uint8Array; rec: Uint32Array; sec: Float64Array; bucket: Uint8Array; owners: Uint8Array } | null {
    const fast = this.fast;
    return fast === null || fast.chunkCopy.length === 0 ? null : { bytes: fast.chunkCopy, rec: fast.rec, sec: fast.sec, bucket: fast.bucket, owners: fast.owners };
  }

  /**
   * Processes one record in full. `creditQuote`: also credit an ICMP error from a third host to the
   * flow it quotes (FlowTable.creditQuoted); a worker passes false when another worker owns that flow.
   */
  handle(
    ordinal: number, buf: Uint8Array, offset: number, capLen: number, origLen: number,
    tsSec: number, tsNsec: number, linkType: number, creditQuote: boolean,
  ): void {
    this.packets++;
    const fb = this.frameBytes;
    fb[0]! += origLen;
    fb[1]! += capLen;
    if (this.linkTypePackets[linkType & 0xffff]!++ === 0) this.linkTypesSeen.push(linkType & 0xffff);
    if (capLen < origLen) this.truncatedFrames++;
    this.noteTime(tsSec, tsNsec);
    // Nearly every frame takes the plain decoder (decode/plain.ts); the others the general one.
    const p = this.decoder.decodePlain(buf, offset, capLen, origLen, linkType) ?? this.decoder.decode(buf, offset, capLen, origLen, linkType);
    if (p.anomaly !== 0) this.anomalies.counts[p.anomaly]!++;
    if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) {
      this.notIp++;
      // A frame cut before the IP header still advances the flow clock.
      this.table.clock(tsSec, ordinal);
      return;
    }
    if (creditQuote && p.quotedValid) {
      this.table.clock(tsSec, ordinal);
      this.table.creditQuoted(p);
    }
    this.table.process(p, ordinal, tsSec, tsNsec, origLen, buf);
    if (p.innerKind !== 0) processInnerLevels(this.decoder, this.table, this.anomalies.counts, this.shard, ordinal, tsSec, tsNsec, origLen, buf);
  }

  /**
   * A tunnelled record whose frame level another worker processes (and counts): only the levels
   * inside it that this worker owns. The caller has advanced the flow clock for it.
   */
  handleInner(
    ordinal: number, buf: Uint8Array, offset: number, capLen: number, origLen: number,
    tsSec: number, tsNsec: number, linkType: number,
  ): void {
    const p = this.decoder.decode(buf, offset, capLen, origLen, linkType);
    if (p.innerKind !== 0) processInnerLevels(this.decoder, this.table, null, this.shard, ordinal, tsSec, tsNsec, origLen, buf);
  }

  /** Capture-time span: first record's time and the latest time (workers call it for every record). */
  noteTime(tsSec: number, tsNsec: number): void {
    if (this.firstSec < 0) {
      this.firstSec = tsSec;
      this.firstNsec = tsNsec;
    }
    if (tsSec > this.lastSec || (tsSec === this.lastSec && tsNsec > this.lastNsec)) {
      this.lastSec = tsSec;
      this.lastNsec = tsNsec;
    }
  }

  /** Advances the flow clock with no packet (a quiet live link): idle flows expire. */
  tick(nowSec: number): void {
    this.table.sweepIfDue(nowSec);
  }

  // FlowObserver: classification hooks and record emission.
  prefetch(slot: number): number {
    return this.classifier?.prefetch?.(slot) ?? 0;
  }

  flowStarted(slot: number): void {
    this.classifier?.flowStarted(this.table, slot);
    this.liveView?.flowStarted(slot);
  }

  payload(slot: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void {
    this.classifier?.payload(this.table, slot, toServer, buf, offset, length);
    this.liveView?.markDirty(slot);
  }

  flowEnded(slot: number, reason: number): void {
    const t = this.table;
    if (t.packetsToServer(slot) + t.packetsToClient(slot) === 0) return; // an active-timeout tail with no packets
    const view = this.liveView;
    // What the recognisers saw, read before classify() releases the flow's inspection state.
    const protocol = this.classifier?.observedProtocol?.(slot) ?? null;
    let wanted = this.onFlow !== null;
    let forSummary = wanted;
    if (wanted && this.largest !== null) {
      // The verdict without evidence details is shared and cheap; the details only for a record.
      const violation = this.classifier !== null && this.classifier.peek(t, slot, false).exposure?.status === 'violation';
      forSummary = this.largest.wants(t.bytesToServer(slot) + t.bytesToClient(slot), violation);
      wanted = forSummary || this.everyFlow;
    }
    const cls = this.classifier ? this.classifier.classify(t, slot, wanted || (view !== null && view.wantsRow(t, slot))) : null;
    this.services.addFlow(t, slot, cls);
    this.ports.addFlow(t, slot, cls, protocol);
    view?.flowEnded(t, slot, cls, protocol, reason);
    const trigger = reason === FlowEndReason.EndOfCapture ? END_OF_CAPTURE_TRIGGER : t.currentOrdinal;
    if (this.onTally !== null) this.onTally(this.tallyOf(slot, cls), trigger, reason, t.lastOrdinal(slot));
    if (!wanted || this.onFlow === null) return;
    const record: ClassifiedFlow = describeFlow(t, slot, reason, cls);
    this.onFlow(record, trigger, reason, t.lastOrdinal(slot), forSummary);
  }

  /** The reused tally filled for `slot`: the fields describeFlow gives these, and `cls`'s verdict. */
  private tallyOf(slot: number, cls: Classification | null): FlowTally {
    const t = this.table;
    const x = this.tally;
    x.transport = ipProtoName(t.proto(slot));
    x.packets.toServer = t.packetsToServer(slot);
    x.packets.toClient = t.packetsToClient(slot);
    x.bytes.toServer = t.bytesToServer(slot);
    x.bytes.toClient = t.bytesToClient(slot);
    x.payloadBytes.toServer = t.payloadToServer(slot);
    x.payloadBytes.toClient = t.payloadToClient(slot);
    x.service = cls?.service;
    x.verdict = cls?.verdict;
    x.ambiguous = cls?.ambiguous;
    x.candidates = cls?.candidates;
    x.exposure = cls?.exposure;
    return x;
  }

  /**
   * End every live flow (end of input). A flow log, tallies (metrics make series in the order they
   * first come) and the live view take flows in the order they end (oldest first); a summary only
   * adds them up, in any order: then in slot order (faster).
   */
  finish(): void {
    this.table.flush(this.onFlow !== null || this.onTally !== null || this.liveView !== null);
  }

  /**
   * Current state for dashboards and exporters: totals plus per-service stats including live flows
   * (`withLive`), and with `detail` the bounded lists the dashboard shows (top live and recently
   * ended flows, alerts, unknown ports). Cost: one pass over live flows reading typed arrays;
   * objects only for the listed flows (live-view.ts).
   */
  snapshot(withLive = true, detail = false): Snapshot {
    const t = this.table;
    const takenAt = Date.now();
    let services: Snapshot['services'];
    let snapshotDetail: Snapshot['detail'];
    if (withLive || detail) {
      this.liveView ??= new LiveView(t.capacity, this.classifier);
      const view = this.liveView.snapshot(t, this.services, takenAt, detail);
      services = view.services;
      snapshotDetail = view.detail;
    } else {
      services = this.services.list().map((e) => ({ ...e, liveFlows: 0 }));
    }
    return {
      takenAt,
      workers: 0,
      totals: this.totals(),
      services,
      engineDrops: 0,
      inFlightChunks: 0,
      ...(snapshotDetail !== undefined ? { detail: snapshotDetail } : {}),
    };
  }

  totals(): EngineTotals {
    const anomalies = new AnomalyCounters();
    anomalies.mergeFrom(this.anomalies);
    for (let i = 0; i < ANOMALY_COUNT; i++) anomalies.counts[i]! += this.table.flowAnomalies[i] ?? 0;
    const packetsByLinkType: Record<string, number> = {};
    for (const lt of [...this.linkTypesSeen].sort((a, b) => a - b)) packetsByLinkType[String(lt)] = this.linkTypePackets[lt]!;
    return {
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.capturedBytes,
      truncatedFrames: this.truncatedFrames,
      notIp: this.notIp,
      unattributed: this.table.unattributed,
      flows: this.table.created,
      liveFlows: this.table.live,
      evictedFlows: this.table.evicted,
      anomalies: anomalies.toRecord(),
      packetsByLinkType,
      firstSec: this.firstSec,
      firstNsec: this.firstNsec,
      lastSec: this.lastSec,
      lastNsec: this.lastNsec,
    };
  }
}
