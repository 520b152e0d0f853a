/** The world as commands see it: injected so commands run in tests without a process. */
import type { LineWriter } from '../export/line-writer.js';
import type { Terminal } from './terminal.js';

export interface CliIo {
  stdout: LineWriter;
  stderr: (line: string) => void;
  stdin: NodeJS.ReadableStream;
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM: commands stop reading and flush what they have. */
  signal: AbortSignal;
  /**
   * The terminal, when stdout is a TTY (the dashboard draws on it and reads keys from stdin or
   * `/dev/tty`: cli/terminal.ts); absent or null everywhere else (pipes, files, tests).
   */
  terminal?: Terminal | null;
  /** Environment (CI, NO_COLOR); default: none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Print the periodic progress line on stderr when no dashboard runs (the real process: yes). */
  progress?: boolean;
  /**
   * Subscribe to SIGHUP (logrotate: reopen output files); returns the unsubscribe function. Absent
   * in tests that do not need it. While nobody is subscribed, SIGHUP keeps its default (the process
   * ends, as when its terminal goes away).
   */
  onHangup?: (cb: () => void) => () => void;
}
