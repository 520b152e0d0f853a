/**
 * What to say about an output that closed during the run: its reader went away (a pipe's, a
 * FIFO's, a terminal's) or a write failed (a full disk). Either way the run stopped reading there
 * (the session stops it), and everything counted is still reported.
 */
import type { LineWriter } from './line-writer.js';
import type { RunSummary } from './summary.js';

/** `name`: "stdout", or the file's path. Null while the output is open. */
export function closedOutputMessage(name: string, w: LineWriter, summary: RunSummary): string | null {
  if (!w.closed) return null;
  const n = `${w.linesWritten} line${w.linesWritten === 1 ? '' : 's'}`;
  // A reader that went away gets a notice (as `| head` does); a failed write is an error (exit 1).
  const stopped =
    summary.source.kind === 'proxy' ? `the proxy stopped after ${summary.totals.flows} connections` : summary.interrupted ? `stopped reading after ${summary.totals.packets} packets` : null;
  if (w.failure === null) {
    return stopped !== null ? `portsniff: ${name} was closed: ${stopped} (${n} were handed to it)` : `portsniff: ${name} was closed after ${n}; everything was read`;
  }
  return stopped !== null
    ? `portsniff: error: cannot write ${name}: ${w.failure}: ${stopped} (${n} were written)`
    : `portsniff: error: cannot write ${name}: ${w.failure} after ${n}; everything was read`;
}
