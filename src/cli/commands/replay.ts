/** `portsniff replay FILE|-`: a session fed by a capture file or stdin. */
import { runSession, type SessionOptions } from '../session.js';
import { chooseFace, type FaceOptions } from '../face.js';
import type { CliIo } from '../io.js';
import { UsageError } from '../../errors.js';

export type ReplayOptions = SessionOptions;

export async function runReplay(file: string, opts: ReplayOptions, io: CliIo, faceOptions: FaceOptions): Promise<number> {
  // A terminal never delivers a capture: the run would wait for one forever, showing 0 packets.
  if (file === '-' && (io.stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('stdin is a terminal, not a capture: pipe one in (tcpdump -i eth0 -w - | portsniff replay -) or name a file');
  }
  const face = await chooseFace(io, faceOptions);
  return runSession(
    {
      kind: file === '-' ? 'stdin' : 'file',
      name: file === '-' ? 'stdin' : file,
      // The pipeline reads the file itself: with worker threads, straight into shared chunks.
      file,
    },
    opts,
    io,
    face.extras,
  );
}
