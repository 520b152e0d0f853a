/** The world as commands see it: injected so commands run in tests without a process. */
import type { LineWriter } from '../export/line-writer.js';

export interface CliIo {
  stdout: LineWriter;
  stderr: (line: string) => void;
  stdin: NodeJS.ReadableStream;
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM: commands stop reading and flush what they have. */
  signal: AbortSignal;
}
