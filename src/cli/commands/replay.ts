/** `portsniff replay FILE|-`: a session fed by a capture file or stdin. */
import { readCaptureFile } from '../../capture/file.js';
import { runSession, type SessionOptions } from '../session.js';
import type { CliIo } from '../io.js';

export type ReplayOptions = SessionOptions;

export function runReplay(file: string, opts: ReplayOptions, io: CliIo): Promise<number> {
  return runSession(
    {
      kind: file === '-' ? 'stdin' : 'file',
      name: file === '-' ? 'stdin' : file,
      feed: (sink, signal) => readCaptureFile(file, sink, { signal, stdin: io.stdin }),
    },
    opts,
    io,
  );
}
