/**
 * The final report on stdout: the `--json` summary or the text table. When stdout's reader went
 * away during the run (`--flows - | head`), the report goes to stderr with a line saying so; when
 * stdout carries the flow log, a JSON summary is its last (compact) line so NDJSON stays NDJSON.
 */
import type { SessionConsumer, SessionEnd } from './consumer.js';
import type { LineWriter } from './line-writer.js';
import { renderTextSummary } from './text.js';

export interface SummaryPrinterOptions {
  stdout: LineWriter;
  stderr: (line: string) => void;
  json: boolean;
  /** The flow log is written to stdout (`--flows -`). */
  flowsOnStdout: boolean;
}

export class SummaryPrinter implements SessionConsumer {
  constructor(private readonly o: SummaryPrinterOptions) {}

  finish(end: SessionEnd): void {
    const { stdout, stderr, json, flowsOnStdout } = this.o;
    const { summary } = end;
    if (stdout.closed) {
      stderr(
        summary.source.kind === 'proxy'
          ? `portsniff: stdout was closed: the proxy stopped after ${summary.totals.flows} connections (${stdout.linesWritten} lines were handed to it)`
          : summary.interrupted
          ? `portsniff: stdout was closed: stopped reading after ${summary.totals.packets} packets (${stdout.linesWritten} lines were handed to it)`
          : `portsniff: stdout was closed before all ${stdout.linesWritten} lines were written; everything was read`,
      );
      stderr(json ? JSON.stringify(summary) : renderTextSummary(summary, end.topFlows, end.violations).trimEnd());
    } else if (json) {
      stdout.writeLine(flowsOnStdout ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
    } else if (!flowsOnStdout && end.opened) {
      // Nothing was opened (no such file, ...): the error line alone says it all.
      stdout.write(renderTextSummary(summary, end.topFlows, end.violations));
    }
    stdout.flush();
  }
}
