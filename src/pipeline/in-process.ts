/**
 * `--workers 0`: the Engine runs on the reading thread (unit tests, 2-core machines, small inputs).
 */
import { readCaptureFile } from '../capture/file.js';
import type { CaptureReadResult } from '../capture/types.js';
import { Engine } from './engine.js';
import { buildClassification } from './classification.js';
import type { Pipeline, PipelineOptions, PipelinePressure, PipelineResult, PipelineSink, RunFileOptions } from './pipeline.js';
import { DEFAULT_SNAPSHOT_INTERVAL_MS } from './pipeline.js';
import type { ClassifiedFlow, FlowTally, Snapshot } from './results.js';
import { SnapshotFeed } from './snapshot-feed.js';
import { mergePortStats } from './port-stats.js';

export class InProcessPipeline implements Pipeline {
  readonly workers = 0;
  readonly sink: PipelineSink;
  private readonly engine: Engine;
  private readonly flowCallbacks: Array<(flow: ClassifiedFlow) => void> = [];
  private readonly jsonCallbacks: Array<(line: string) => void> = [];
  private readonly tallyCallbacks: Array<(tally: FlowTally) => void> = [];
  private readonly flowsAsJson: boolean;
  /** With flowsAsJson: the records the text summary's lists want still go to onFlow. */
  private readonly summaryRecords: boolean;
  private readonly feed: SnapshotFeed;
  private readonly detail: boolean;
  private readonly liveServices: boolean;

  constructor(opts: PipelineOptions) {
    const classification = buildClassification(opts.classification);
    this.engine = new Engine({
      maxFlows: opts.maxFlows,
      idleTimeout: opts.idleTimeout,
      activeTimeout: opts.activeTimeout,
      classifier: classification.makeClassifier(opts.maxFlows),
      documentedPorts: classification.documentedPorts,
      ...(opts.decap ? { decap: opts.decap } : {}),
      ...(opts.flows ? { onFlow: (f: ClassifiedFlow, _t: number, _p: number, _l: number, forSummary: boolean) => this.emit(f, forSummary) } : {}),
      ...(opts.flows && opts.largestRecords !== undefined ? { largestRecords: opts.largestRecords, everyFlow: opts.flowsAsJson === true } : {}),
      ...(opts.tallies === true ? { onTally: (x: FlowTally) => this.tallied(x) } : {}),
      fastPath: opts.fastPath !== false,
    });
    this.sink = this.engine;
    this.flowsAsJson = opts.flowsAsJson === true;
    this.summaryRecords = opts.largestRecords !== undefined;
    this.detail = opts.detail === true;
    this.liveServices = opts.liveServices !== false || this.detail;
    // The engine's live view starts with its first snapshot, and its lists (recently ended flows,
    // alerts, unknown ports) count flows that end from then on: with detail, start it when someone
    // subscribes, before the first record, or a replay faster than one snapshot interval lists nothing.
    this.feed = new SnapshotFeed(opts.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS, () => this.snapshot(), () => {
      if (this.detail) this.engine.snapshot(true, true);
    });
  }

  private emit(f: ClassifiedFlow, forSummary: boolean): void {
    if (this.flowsAsJson) {
      const line = JSON.stringify(f);
      for (const cb of this.jsonCallbacks) cb(line);
    }
    // With lines, records go on only for the text summary's lists (largestRecords), as a worker's do.
    if (!this.flowsAsJson || (this.summaryRecords && forSummary)) for (const cb of this.flowCallbacks) cb(f);
  }

  private tallied(x: FlowTally): void {
    for (const cb of this.tallyCallbacks) cb(x);
  }

  tryAcquire(): boolean {
    return true;
  }

  runFile(pathOrDash: string, opts: RunFileOptions = {}): Promise<CaptureReadResult> {
    const { signal, pause } = opts;
    return readCaptureFile(pathOrDash, this.engine, {
      ...(signal ? { signal } : {}),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(pause ? { gate: () => pause.hold(signal) } : {}),
    });
  }

  onFlow(cb: (flow: ClassifiedFlow) => void): void {
    this.flowCallbacks.push(cb);
  }

  onFlowJson(cb: (line: string) => void): void {
    this.jsonCallbacks.push(cb);
  }

  onTally(cb: (tally: FlowTally) => void): void {
    this.tallyCallbacks.push(cb);
  }

  onSnapshot(cb: (s: Snapshot) => void): void {
    this.feed.subscribe(cb);
  }

  snapshot(): Snapshot {
    return this.engine.snapshot(this.liveServices, this.detail);
  }

  pressure(): PipelinePressure {
    return { poolChunks: 0, inFlight: 0, maxInFlight: 0, readerWaits: 0, chunksPosted: 0 };
  }

  finish(): Promise<PipelineResult> {
    this.engine.finish();
    this.feed.stop();
    return Promise.resolve({
      totals: this.engine.totals(),
      services: this.engine.services.list(),
      workers: 0,
      engineDrops: 0,
      error: null,
      ports: mergePortStats([this.engine.ports.toData(false)]),
      fastRecords: this.engine.fastRecords,
    });
  }

  close(): Promise<void> {
    this.feed.stop();
    return Promise.resolve();
  }
}
