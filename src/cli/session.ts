/**
 * One session, whatever feeds it (a file, stdin, a live interface, or the relay of `portsniff
 * proxy`, which brings its own producer): build the pipeline
 * (in-process or worker threads, --workers), let the source feed it (paced with --speed), and drive
 * every output through the SessionConsumer interface (export/consumer.ts): the flow log, the final
 * summary, the stderr progress line, the dashboard, exporters. Everything already counted reaches
 * the consumers even when the source fails, a worker dies, the run is interrupted (SIGINT/SIGTERM,
 * the dashboard's `q`) or stdout goes away.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { isGzipFile, stdinFileBytes } from '../capture/capture-stream.js';
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import { readCaptureFile } from '../capture/file.js';
import { PACED_MAX_READ_BYTES, Pacer, Pause } from '../capture/pacer.js';
import { CaptureFormatError, PortsniffError } from '../errors.js';
import { createPipeline, defaultWorkers, type Pipeline, type PipelineResult } from '../pipeline/pipeline.js';
import type { ClassifiedFlow, ProxyStats, Snapshot } from '../pipeline/results.js';
import type { RuleSet } from '../rules/types.js';
import { buildSummary, type RunSummary } from '../export/summary.js';
import { TopFlows } from '../export/text.js';
import { openOutputFile } from './output-file.js';
import { sameFile } from '../util/same-file.js';
import { closedOutputMessage } from '../export/closed-output.js';
import { FlowLog } from '../export/flow-log.js';
import { SummaryPrinter } from '../export/summary-printer.js';
import type { LiveCounters, SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionKind, SessionUpdate } from '../export/consumer.js';
import { ruleInfoOf } from '../export/rule-info.js';
import { loadRuleDirs } from '../rules/load.js';
import { loadPolicyFile } from '../rules/policy.js';
import { buildCoverage } from '../export/coverage.js';
import { UsageError } from '../errors.js';
import { fleetWantsFlows, openFleetOutputs, PeriodicFlush, reopenWriters, type FleetOptions } from './fleet-outputs.js';
import { ruleDirs, type ClassificationOptions } from './classification-setup.js';
import type { CliIo } from './io.js';
import { decapSummary, type DecapOptions } from '../decode/decap-options.js';

export interface SessionOptions extends ClassificationOptions {
  json?: boolean;
  flows?: string;
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  top: number;
  /** Worker threads (0 = in-process); default: defaultWorkers() for this machine. */
  workers?: number;
  /** Replay pacing: capture seconds per wall second; null or absent = as fast as possible. */
  speed?: number | null;
  /** --policy FILE (rules/policy.ts). */
  policy?: string;
  /** --metrics, --ipfix, --alerts, --fail-on (fleet-outputs.ts). */
  fleet?: FleetOptions;
  /** `--decap`, `--vxlan-port`: which encapsulations to open (default: all). */
  decap?: DecapOptions;
}

/**
 * Where the records come from: either `file` (a capture path, or '-' for stdin, read by the
 * pipeline itself: straight into shared chunks for the workers) or `feed` (the source pushes
 * records into the pipeline's sink, e.g. a live capture). One of the two must be set.
 */
export interface SessionSource {
  kind: 'file' | 'stdin' | 'live' | 'proxy';
  name: string;
  /** A capture file, or '-' for io.stdin. */
  file?: string;
  /** Live: the capture backend and BPF filter (for the dashboard's header). */
  backend?: string;
  filter?: string;
  /** Live: the backend's counters while capturing (drops), or null before it started. */
  liveCounters?: () => LiveCounters | null;
  /** Proxy: the relay's counters now (the dashboard's header shows refusals and upstream errors). */
  relayStats?: () => ProxyStats;
  /**
   * Push every record into `sink` until the input ends or `signal` aborts. Throw a
   * CaptureFormatError (with `partial`) or PortsniffError on failure. The sink never blocks; with
   * worker threads it drops (and counts) what it cannot take when every chunk is busy.
   */
  feed?(sink: FrameSink, signal: AbortSignal): Promise<CaptureReadResult>;
  /**
   * Instead of a capture pipeline, a producer of flows and snapshots that is already running
   * (`portsniff proxy`: the relay, listening). `run` resolves when it should stop (`signal`
   * aborts, or its own end such as --duration); then the session finishes it like a pipeline.
   */
  producer?: SessionProducer;
  run?(signal: AbortSignal): Promise<void>;
  /** The rules the producer classifies with (loaded by the command, shown by consumers). */
  ruleSet?: RuleSet | null;
}

/** What the session needs from whatever produces flows: the capture Pipeline's shape. */
export interface SessionProducer {
  onFlow(cb: (flow: ClassifiedFlow) => void): void;
  onSnapshot(cb: (snapshot: Snapshot) => void): void;
  snapshot(): Snapshot;
  /** Ends every flow (they reach onFlow) and returns the totals; a relay adds its counters. */
  finish(): Promise<PipelineResult & { proxy?: ProxyStats }>;
  close(): Promise<void>;
}

/** Extra consumers (the dashboard, exporters) and what they need from the pipeline. */
export interface SessionExtras {
  consumers?: SessionConsumer[];
  /** Snapshots carry the dashboard's detail lists. */
  detail?: boolean;
  /** Milliseconds between snapshots (default 250). */
  snapshotIntervalMs?: number;
  /**
   * A consumer draws on the terminal (the dashboard): SIGHUP then means that terminal hung up, and
   * must not kill the process before the session has stopped and written its outputs.
   */
  holdsTerminal?: boolean;
}

export async function runSession(source: SessionSource, opts: SessionOptions, io: CliIo, extras: SessionExtras = {}): Promise<number> {
  const dirs = ruleDirs(opts);
  // Rules are loaded (and validated: RuleFileError, unknown --products) here, once, for every worker.
  const ruleSet = source.ruleSet !== undefined ? source.ruleSet : dirs.length === 0 ? null : loadRuleDirs(dirs);
  const extra = extras.consumers ?? [];
  const othersReadRecords = extra.some((c) => c.flow !== undefined) || fleetWantsFlows(opts.fleet);
  const recordsForOthers = opts.flows !== undefined || othersReadRecords;
  // The text summary lists the largest flows and the first exposure violations.
  const summaryLists = !opts.json && opts.top > 0;
  const summaryOnlyFlows = !recordsForOthers && summaryLists;
  const wantFlows = recordsForOthers || summaryOnlyFlows;
  // The flow log is the only reader of every record (no exporter, no view): the pipeline hands over
  // each flow's JSON text, made where the engine runs, and records only for the summary's lists.
  const flowsAsJson = opts.flows !== undefined && !othersReadRecords && source.producer === undefined;
  // Evidence fields (SNI, gRPC path, ...) are printed in the flow log and shown by consumers of
  // flows; without those, the classifier keeps just the protocol tags per live flow.
  const evidenceDetail = opts.flows !== undefined || extra.some((c) => c.flow !== undefined);
  if (opts.policy !== undefined && ruleSet === null) throw new UsageError('--policy needs rules: it names products and rules (drop --no-rules)');
  // Validated once here (PolicyFileError lists every problem); the workers get it as plain data.
  const policy = opts.policy === undefined || ruleSet === null ? undefined : loadPolicyFile(opts.policy, ruleSet, { monitoringHosts: opts.monitoringHosts !== undefined });
  const classification =
    ruleSet === null ? null : { ruleSet, products: opts.products, evidenceDetail, monitoringHosts: opts.monitoringHosts, ...(policy !== undefined ? { policy } : {}) };
  const workers = opts.workers ?? defaultWorkers();
  // Listening sockets and files first: a port in use is an error before any packet is read.
  const fleet = await openFleetOutputs(opts.fleet ?? {}, io);
  // Live flows in the per-service figures only for a consumer that reads them (metrics, dashboard).
  const liveServices = extras.detail === true || [...extra, ...fleet.consumers].some((c) => c.update !== undefined && c.updateNeeds !== 'totals');
  // Nothing but verdicts is read from the evidence: no flow records, no live flows in any view.
  const verdictsOnly = !wantFlows && !liveServices;
  // A producer brought by the source (the proxy) classifies with its own copy of the same rules.
  let capture: Pipeline | null = null;
  let pipeline: SessionProducer;
  try {
    if (source.producer !== undefined) {
      pipeline = source.producer;
    } else {
      capture = createPipeline({
        workers,
        maxFlows: opts.maxFlows,
        idleTimeout: opts.idleTimeout,
        activeTimeout: opts.activeTimeout,
        classification: classification === null ? null : { ...classification, verdictsOnly },
        flows: wantFlows,
        ...(flowsAsJson ? { flowsAsJson: true } : {}),
        // Only the text summary reads records: it lists the --top largest flows and violations.
        ...(summaryOnlyFlows || (flowsAsJson && summaryLists) ? { largestRecords: opts.top } : {}),
        liveServices,
        ...([...fleet.consumers, ...extra].some((c) => c.tally !== undefined) ? { tallies: true } : {}),
        ...(opts.decap ? { decap: opts.decap } : {}),
        ...(extras.detail ? { detail: true } : {}),
        ...(extras.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: extras.snapshotIntervalMs } : {}),
      });
      pipeline = capture;
    }
  } catch (err) {
    await fleet.close(io.signal);
    throw err;
  }

  const consumers: SessionConsumer[] = [];
  let flowLog: FlowLog | null = null;
  const reopenable = [...fleet.reopenable];
  const flushable = [...fleet.writers];
  try {
    if (opts.flows !== undefined) {
      const toStdout = opts.flows === '-';
      // --flows and --alerts naming one file write one stream through one writer (two descriptors
      // would each write from their own offset, over each other's lines); the alerts close it.
      const shared = !toStdout && fleet.alertsFile !== null && sameFile(opts.flows, fleet.alertsFile.name) ? fleet.alertsFile : null;
      const writer = toStdout ? io.stdout : (shared ?? (await openOutputFile(opts.flows, '--flows', io)));
      if (shared === null) {
        if (!toStdout) reopenable.unshift(writer);
        flushable.unshift(writer);
      }
      flowLog = new FlowLog(writer, !toStdout && shared === null);
      consumers.push(flowLog);
    }
  } catch (err) {
    await pipeline.close();
    await fleet.close(io.signal);
    throw err;
  }
  // Exporters and alerts end before the dashboard and the summary (their lines are complete first).
  consumers.push(...fleet.consumers);
  // Sessions that run until stopped (a capture, a proxy) write their files as they grow.
  const longRunning = source.kind === 'live' || source.kind === 'proxy';
  if (longRunning && flushable.length > 0) consumers.push(new PeriodicFlush(flushable));
  // logrotate: SIGHUP reopens --flows and --alerts files (only while there are files to reopen).
  // With a dashboard, SIGHUP is also its terminal hanging up: the dashboard's thread sees the
  // terminal go and stops the session; the signal must not end the process first (--write).
  const unhook = reopenable.length > 0 || extras.holdsTerminal === true ? io.onHangup?.(() => reopenWriters(reopenable, io)) : undefined;
  // Finish order: the flow log is complete before the dashboard waits for its `q`; the dashboard has
  // left the terminal before the summary prints.
  consumers.push(...extra);
  consumers.push(new SummaryPrinter({ stdout: io.stdout, stderr: io.stderr, json: opts.json === true, flowsOnStdout: opts.flows === '-' || opts.fleet?.alerts === '-' }));

  const top = new TopFlows(opts.json ? 0 : opts.top);
  // The first flows that broke the documented exposure, listed by the text summary.
  const violations: ClassifiedFlow[] = [];
  // With flow lines the log takes those; records (the summary's) go only to its lists.
  const flowConsumers = flowsAsJson ? [] : consumers.filter((c) => c.flow !== undefined);
  if (flowsAsJson && capture !== null && flowLog !== null) {
    const log = flowLog;
    capture.onFlowJson((line) => log.line(line));
  }
  // Tallies: from the capture pipeline, without records; a producer (the proxy) makes records anyway.
  const tallyConsumers = consumers.filter((c) => c.tally !== undefined);
  capture?.onTally((x) => {
    for (const c of tallyConsumers) c.tally!(x);
  });
  pipeline.onFlow((f: ClassifiedFlow) => {
    for (const c of flowConsumers) c.flow!(f);
    if (capture === null) for (const c of tallyConsumers) c.tally!(f);
    top.add(f);
    if (f.exposure?.status === 'violation' && violations.length < top.capacity) violations.push(f);
  });

  // Stop: SIGINT/SIGTERM (io.signal), a consumer (the dashboard's q), or an output file that closed
  // (a full disk, a FIFO's reader gone): what it would be given next would be lost.
  const stopper = new AbortController();
  const files = flushable.filter((w) => w !== io.stdout);
  for (const w of files) {
    w.onClosed = () => stopper.abort();
    // A sensor outlives its log shipper's restarts: a FIFO's next reader gets the lines from then on.
    if (longRunning) {
      w.awaitNextReader(
        () => io.stderr(`portsniff: the reader of ${w.name} went away: its lines are dropped until a reader opens it again`),
        (dropped) => io.stderr(`portsniff: a reader opened ${w.name} again (${dropped} line${dropped === 1 ? '' : 's'} dropped so far)`),
      );
    }
  }
  const signal = AbortSignal.any([io.signal, stopper.signal]);
  const progress = { bytesRead: 0 };
  const speed = source.kind !== 'live' && opts.speed != null ? opts.speed : null;
  let pacer: Pacer | null = null;
  // Max-speed replay: pause holds the reader between chunks; paced replay: the pacer holds it.
  const pause = new Pause();
  const control: SessionControl = {
    setPaused(p: boolean) {
      pause.set(p);
      pacer?.setPaused(p);
    },
    stop() {
      stopper.abort();
    },
  };

  const info: SessionInfo = {
    kind: source.kind as SessionKind,
    name: source.name,
    backend: source.backend ?? null,
    filter: source.filter ?? null,
    totalBytes: captureSize(source.file, io),
    speed,
    workers,
    rules: ruleSet === null ? [] : ruleSet.rules.filter((r) => opts.products === undefined || opts.products.length === 0 || opts.products.includes(r.product)).map(ruleInfoOf),
    products: opts.products !== undefined && opts.products.length > 0 ? [...opts.products] : null,
    startedAt: Date.now(),
  };
  for (const c of consumers) c.start?.(info, control);

  const updateConsumers = consumers.filter((c) => c.update !== undefined);
  const makeUpdate = (snapshot: Snapshot, state: SessionUpdate['state']): SessionUpdate => ({
    snapshot,
    wallMs: Date.now(),
    bytesRead: progress.bytesRead,
    live: source.liveCounters?.() ?? null,
    ...(source.relayStats !== undefined ? { relay: source.relayStats() } : {}),
    paused: pause.paused,
    state,
  });
  if (updateConsumers.length > 0) {
    pipeline.onSnapshot((s) => {
      const u = makeUpdate(s, 'running');
      for (const c of updateConsumers) c.update!(u);
    });
  }

  let read: CaptureReadResult | null = null;
  let error: { code: string; message: string; offset: number | null } | null = null;
  let exitCode = 0;
  try {
    if (source.file !== undefined && speed !== null) {
      // Paced: this thread reads in small pieces and feeds the pipeline's sink, whatever --workers
      // (at a paced rate reading is never the bottleneck; the pacer's clock stays here).
      pacer = new Pacer(capture!.sink, speed, () => performance.now(), () => capture!.tryAcquire());
      if (pause.paused) pacer.setPaused(true);
      const p = pacer;
      read = await readCaptureFile(source.file, p, {
        signal,
        stdin: io.stdin,
        progress,
        // Records of one read arrive together: reads span a few ms at the replay's speed.
        chunkSize: PACED_MAX_READ_BYTES,
        readSize: () => p.readBytes(),
        gate: () => p.gate(signal),
      });
    } else if (source.file !== undefined) {
      // With one worker, the worker reads the file itself (pause and stop reach it by message).
      read = await capture!.runFile(source.file, { signal, stdin: io.stdin, progress, pause });
    } else if (source.feed !== undefined) {
      read = await source.feed(capture!.sink, signal);
    } else if (source.run !== undefined) {
      await source.run(signal);
    } else {
      throw new Error('SessionSource needs `file`, `feed` or `producer` and `run`');
    }
  } catch (err) {
    if (err instanceof CaptureFormatError) {
      read = err.partial ?? null;
      error = { code: err.code, message: err.message, offset: err.offset };
    } else if (err instanceof PortsniffError) {
      // A live capture that fails after packets flowed still reports what it captured.
      read = (err as { partial?: CaptureReadResult }).partial ?? null;
      error = { code: err.code, message: err.message, offset: null };
    } else {
      await pipeline.close();
      await endConsumers(consumers, null);
      unhook?.();
      await fleet.close(io.signal);
      throw err;
    }
    exitCode = 1;
  }
  // Whether reading was cut short (a signal, the dashboard's q, or stdout closed while flow lines
  // were written). A closed stdout found by the final flush below stops nothing: everything was read.
  const interrupted = signal.aborted;
  // Ends every flow; with workers, also gathers what a failed worker had counted.
  const result = await pipeline.finish();
  if (result.error !== null) {
    error ??= { code: result.error.code, message: result.error.message, offset: null };
    exitCode = 1;
  }
  if (updateConsumers.length > 0) {
    // The final state (every flow ended) for views that stay open after the end of a replay.
    const u = makeUpdate(pipeline.snapshot(), 'ended');
    for (const c of updateConsumers) c.update!(u);
  }
  await pipeline.close();

  const summary: RunSummary = buildSummary({
    kind: source.kind,
    name: source.name,
    read,
    error,
    totals: result.totals,
    services: result.services,
    coverage: ruleSet === null ? null : buildCoverage(result.ports, info.rules, info.products),
    options: { maxFlows: opts.maxFlows, idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout, workers, ...decapSummary(opts.decap) },
    interrupted,
    ...(result.proxy !== undefined ? { proxy: result.proxy } : {}),
  });
  // --fail-on: exit 3 when such alerts occurred (a runtime error's exit 1 comes first).
  if (exitCode === 0) exitCode = fleet.failOnCode();
  await endConsumers(consumers, { summary, topFlows: top.list(), violations, exitCode, opened: read !== null || source.run !== undefined });
  unhook?.();
  await fleet.close(io.signal);
  // Outputs that closed (stdout's is told with the summary): a failed write is an error, exit 1.
  for (const w of files) {
    const message = closedOutputMessage(w.name, w, summary);
    if (message !== null) io.stderr(message);
    if (w.linesDropped > 0) io.stderr(`portsniff: ${w.name}: ${w.linesDropped} line${w.linesDropped === 1 ? ' was' : 's were'} dropped while it had no reader`);
  }
  if ([io.stdout, ...files].some((w) => w.failure !== null)) exitCode = 1;
  if (read?.truncated) {
    // Like errors, the warning names the file and the byte offset.
    io.stderr(`portsniff: warning: ${source.name}: ${read.truncated.message} at byte offset ${read.truncated.offset}`);
  }
  if (error) io.stderr(`portsniff: error: ${error.message}${read ? ` (after ${read.packets} packets)` : ''}`);
  return exitCode;
}

/**
 * Each consumer's finish, in order, one after the other (the dashboard resolves when the terminal
 * is clean, then the summary prints). `end` null: an internal error; consumers only release what
 * they hold (abort).
 */
async function endConsumers(consumers: readonly SessionConsumer[], end: SessionEnd | null): Promise<void> {
  for (const c of consumers) {
    if (end !== null) {
      await c.finish?.(end);
      continue;
    }
    try {
      await c.abort?.();
    } catch {
      /* already failing: the first error is the one reported */
    }
  }
}

/**
 * The bytes a replay of `file` will read, for progress and ETA: a regular, uncompressed file's
 * (a path, or stdin's from its offset); null for anything else.
 */
function captureSize(file: string | undefined, io: CliIo): number | null {
  if (file === undefined) return null;
  if (file !== '-') return plainFileSize(file);
  return stdinFileBytes(io.stdin);
}

/** Size of a regular, uncompressed capture file, else null. */
function plainFileSize(path: string): number | null {
  try {
    const st = statSync(path);
    if (!st.isFile()) return null;
    const fd = openSync(path, 'r');
    try {
      // A gzip file's size says nothing about the capture inside it.
      return isGzipFile(fd, path) ? null : st.size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // the reader reports the error with its own wording
  }
}
