/** `portsniff replay FILE|-`: a session fed by a capture file or stdin. */
import { runSession, type SessionOptions } from '../session.js';
import { chooseFace, type FaceOptions } from '../face.js';
import type { CliIo } from '../io.js';

export type ReplayOptions = SessionOptions;

export async function runReplay(file: string, opts: ReplayOptions, io: CliIo, faceOptions: FaceOptions): Promise<number> {
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
