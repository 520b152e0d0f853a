/** Corpus access for the decoder tests; frames come from the project's own reader. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { readFramesSync as readCaptureFile, type CapturedFrame } from '../helpers/read-frames.js';

/** The shared third-party capture corpus (read in place, never copied into the repo). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));

/** The tunnelled-capture corpus next to it (VXLAN, GRE, MPLS, ...). */
export const TUNNEL_CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus-tunnels/', import.meta.url));

/** Path of a corpus file, or null (with a console warning naming it) when it is absent. */
export function corpusFile(name: string): string | null {
  const p = CORPUS_DIR + name;
  if (existsSync(p)) return p;
  console.warn(`[decode tests] corpus file missing: ${p} (tests using it are skipped)`);
  return null;
}
