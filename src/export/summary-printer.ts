/**
 * The final report on stdout: the `--json` summary or the text table. When stdout's reader went
 * away during the run (`--flows - | head`) or a write to it failed (a full disk), the report goes
 * to stderr with a line saying so; when stdout carries the flow log, a JSON summary is its last
 * (compact) line so NDJSON stays NDJSON.
 */
import type { SessionConsumer, SessionEnd } from './consumer.js';
import type { LineWriter } from './line-writer.js';
import { renderTextSummary } from './text.js';
import { closedOutputMessage } from './closed-output.js';

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
    const { stdout, json, flowsOnStdout } = this.o;
    const { summary } = end;
    if (stdout.closed) {
      this.toStderr(end);
      return;
    }
    if (json) {
      // Indented JSON spans lines: write() counts them.
      if (flowsOnStdout) stdout.writeLine(JSON.stringify(summary));
      else stdout.write(JSON.stringify(summary, null, 2) + '\n');
    } else if (!flowsOnStdout && end.opened) {
      // Nothing was opened (no such file, ...): the error line alone says it all.
      stdout.write(renderTextSummary(summary, end.topFlows, end.violations));
    }
    stdout.flush();
    // A reader that left while the report was written wanted no more of it (`| head`); a failed
    // write (a full disk) would lose the report: it goes to stderr.
    if (stdout.closed && !stdout.readerGone) this.toStderr(end);
  }

  /** Why stdout is closed, then the report. */
  private toStderr(end: SessionEnd): void {
    const { stdout, stderr, json } = this.o;
    stderr(closedOutputMessage('stdout', stdout, end.summary)!);
    stderr(json ? JSON.stringify(end.summary) : renderTextSummary(end.summary, end.topFlows, end.violations).trimEnd());
  }
}
