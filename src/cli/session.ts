/**
 * One capture session, whatever feeds it (a file, stdin, a live interface): build the pipeline
 * (in-process or worker threads, --workers), let the source feed it, then write the flow log and
 * the summary. Everything already counted is written even when the source fails, a worker dies,
 * the run is interrupted (SIGINT/SIGTERM) or stdout goes away.
 */
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import { CaptureFormatError, PortsniffError } from '../errors.js';
import type { ClassifiedFlow } from '../pipeline/results.js';
import { createPipeline, defaultWorkers, type Pipeline } from '../pipeline/pipeline.js';
import { buildSummary, type RunSummary } from '../export/summary.js';
import { renderTextSummary, TopFlows } from '../export/text.js';
import { LineWriter } from '../export/line-writer.js';
import { loadRuleDirs } from '../rules/load.js';
import { ruleDirs, type ClassificationOptions } from './classification-setup.js';
import type { CliIo } from './io.js';

export interface SessionOptions extends ClassificationOptions {
  json?: boolean;
  flows?: string;
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  top: number;
  /** Worker threads (0 = in-process); default: defaultWorkers() for this machine. */
  workers?: number;
}

/**
 * Where the records come from: either `file` (a capture path, or '-' for stdin, read by the
 * pipeline itself: straight into shared chunks for the workers) or `feed` (the source pushes
 * records into the pipeline's sink, e.g. a live capture). One of the two must be set.
 */
export interface SessionSource {
  kind: 'file' | 'stdin' | 'live';
  name: string;
  /** A capture file, or '-' for io.stdin. */
  file?: string;
  /**
   * Push every record into `sink` until the input ends or `signal` aborts. Throw a
   * CaptureFormatError (with `partial`) or PortsniffError on failure. The sink never blocks; with
   * worker threads it drops (and counts) what it cannot take when every chunk is busy.
   */
  feed?(sink: FrameSink, signal: AbortSignal): Promise<CaptureReadResult>;
}

export async function runSession(source: SessionSource, opts: SessionOptions, io: CliIo): Promise<number> {
  const dirs = ruleDirs(opts);
  // Rules are loaded (and validated: RuleFileError, unknown --products) here, once, for every worker.
  const wantFlows = opts.flows !== undefined || (!opts.json && opts.top > 0);
  // Evidence fields (SNI, gRPC path, ...) are only ever printed in the flow log: without one, the
  // classifier keeps just the protocol tags per live flow.
  const classification = dirs.length === 0 ? null : { ruleSet: loadRuleDirs(dirs), products: opts.products, evidenceDetail: opts.flows !== undefined, monitoringHosts: opts.monitoringHosts };
  const workers = opts.workers ?? defaultWorkers();
  const pipeline: Pipeline = createPipeline({
    workers,
    maxFlows: opts.maxFlows,
    idleTimeout: opts.idleTimeout,
    activeTimeout: opts.activeTimeout,
    classification,
    flows: wantFlows,
  });
  let flowLog: LineWriter | null = null;
  try {
    flowLog = opts.flows === undefined ? null : opts.flows === '-' ? io.stdout : new LineWriter(opts.flows);
  } catch (err) {
    await pipeline.close();
    throw err;
  }
  const top = new TopFlows(opts.json ? 0 : opts.top);
  // The first flows that broke the documented exposure, listed by the text summary.
  const violations: ClassifiedFlow[] = [];
  pipeline.onFlow((f: ClassifiedFlow) => {
    if (flowLog !== null && !flowLog.closed) flowLog.writeLine(JSON.stringify(f));
    top.add(f);
    if (f.exposure?.status === 'violation' && violations.length < top.capacity) violations.push(f);
  });

  let read: CaptureReadResult | null = null;
  let error: { code: string; message: string; offset: number | null } | null = null;
  let exitCode = 0;
  try {
    if (source.file !== undefined) {
      read = await pipeline.runFile(source.file, { signal: io.signal, stdin: io.stdin });
    } else if (source.feed !== undefined) {
      read = await source.feed(pipeline.sink, io.signal);
    } else {
      throw new Error('SessionSource needs `file` or `feed`');
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
      throw err;
    }
    exitCode = 1;
  }
  // Whether reading was cut short (a signal, or stdout closed while flow lines were written). A
  // closed stdout found by the final flush below stops nothing: everything was read.
  const interrupted = io.signal.aborted;
  // Ends every flow; with workers, also gathers what a failed worker had counted.
  const result = await pipeline.finish();
  await pipeline.close();
  if (result.error !== null) {
    error ??= { code: result.error.code, message: result.error.message, offset: null };
    exitCode = 1;
  }
  flowLog?.flush();
  if (flowLog !== null && flowLog !== io.stdout) flowLog.close();

  const summary: RunSummary = buildSummary({
    kind: source.kind,
    name: source.name,
    read,
    error,
    totals: result.totals,
    services: result.services,
    options: { maxFlows: opts.maxFlows, idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout, workers },
    interrupted,
  });
  if (io.stdout.closed) {
    // The reader of stdout went away during the run (`--flows - | head`): reading stopped there.
    // What was counted still gets reported, on the stream that is left.
    io.stderr(
      interrupted
        ? `portsniff: stdout was closed: stopped reading after ${summary.totals.packets} packets (${io.stdout.linesWritten} lines were handed to it)`
        : `portsniff: stdout was closed before all ${io.stdout.linesWritten} lines were written; everything was read`,
    );
    io.stderr(opts.json ? JSON.stringify(summary) : renderTextSummary(summary, top.list(), violations).trimEnd());
  } else if (opts.json) {
    // With the flow log on stdout too, the summary is the last line (compact) so NDJSON stays NDJSON.
    io.stdout.writeLine(opts.flows === '-' ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  } else if (opts.flows !== '-' && read !== null) {
    // Nothing was opened (no such file, ...): the error line alone says it all.
    io.stdout.write(renderTextSummary(summary, top.list(), violations));
  }
  io.stdout.flush();
  if (read?.truncated) {
    // Like errors, the warning names the file and the byte offset.
    io.stderr(`portsniff: warning: ${source.name}: ${read.truncated.message} at byte offset ${read.truncated.offset}`);
  }
  if (error) io.stderr(`portsniff: error: ${error.message}${read ? ` (after ${read.packets} packets)` : ''}`);
  return exitCode;
}
