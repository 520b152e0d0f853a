/**
 * One capture session, whatever feeds it (a file, stdin, a live interface): build the pipeline,
 * let the source push records into it, then write the flow log and the summary. Everything
 * already counted is written even when the source fails, the run is interrupted (SIGINT/SIGTERM)
 * or stdout goes away.
 */
import type { CaptureReadResult, FrameSink } from '../capture/types.js';
import { CaptureFormatError, PortsniffError } from '../errors.js';
import { Engine, type ClassifiedFlow } from '../pipeline/engine.js';
import { buildSummary, type RunSummary } from '../export/summary.js';
import { renderTextSummary, TopFlows } from '../export/text.js';
import { LineWriter } from '../export/line-writer.js';
import { setupClassification, type ClassificationOptions } from './classification-setup.js';
import type { CliIo } from './io.js';

export interface SessionOptions extends ClassificationOptions {
  json?: boolean;
  flows?: string;
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  top: number;
}

export interface SessionSource {
  kind: 'file' | 'stdin' | 'live';
  name: string;
  /**
   * Push every record into `sink` until the input ends or `signal` aborts. Throw a
   * CaptureFormatError (with `partial`) or PortsniffError on failure.
   */
  feed(sink: FrameSink, signal: AbortSignal): Promise<CaptureReadResult>;
}

export async function runSession(source: SessionSource, opts: SessionOptions, io: CliIo): Promise<number> {
  const classification = setupClassification(opts);
  const flowLog = opts.flows === undefined ? null : opts.flows === '-' ? io.stdout : new LineWriter(opts.flows);
  const top = new TopFlows(opts.json ? 0 : opts.top);
  const engine = new Engine({
    maxFlows: opts.maxFlows,
    idleTimeout: opts.idleTimeout,
    activeTimeout: opts.activeTimeout,
    classifier: classification.makeClassifier(opts.maxFlows),
    documentedPorts: classification.documentedPorts,
    onFlow: (f: ClassifiedFlow) => {
      if (flowLog !== null) flowLog.writeLine(JSON.stringify(f));
      top.add(f);
    },
  });

  let read: CaptureReadResult | null = null;
  let error: { code: string; message: string; offset: number | null } | null = null;
  let exitCode = 0;
  try {
    read = await source.feed(engine, io.signal);
  } catch (err) {
    if (err instanceof CaptureFormatError) {
      read = err.partial ?? null;
      error = { code: err.code, message: err.message, offset: err.offset };
    } else if (err instanceof PortsniffError) {
      error = { code: err.code, message: err.message, offset: null };
    } else {
      throw err;
    }
    exitCode = 1;
  }
  engine.finish();
  flowLog?.flush();
  if (flowLog !== null && flowLog !== io.stdout) flowLog.close();

  const summary: RunSummary = buildSummary({
    kind: source.kind,
    name: source.name,
    read,
    error,
    totals: engine.totals(),
    services: engine.services.list(),
    options: { maxFlows: opts.maxFlows, idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout, workers: 0 },
    interrupted: io.signal.aborted,
  });
  if (opts.json) {
    // With the flow log on stdout too, the summary is the last line (compact) so NDJSON stays NDJSON.
    io.stdout.writeLine(opts.flows === '-' ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  } else if (opts.flows !== '-' && read !== null) {
    // Nothing was opened (no such file, ...): the error line alone says it all.
    io.stdout.write(renderTextSummary(summary, top.list()));
  }
  io.stdout.flush();
  if (read?.truncated) io.stderr(`portsniff: warning: ${read.truncated.message}`);
  if (error) io.stderr(`portsniff: error: ${error.message}${read ? ` (after ${read.packets} packets)` : ''}`);
  return exitCode;
}
