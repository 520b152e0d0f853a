/** Runs the in-process engine over a capture file, the way `portsniff replay` does, for tests. */
import { readCaptureFile } from '../../src/capture/file.js';
import type { CaptureReadResult } from '../../src/capture/types.js';
import { CaptureFormatError } from '../../src/errors.js';
import { Engine, DEFAULT_ENGINE_OPTIONS, type ClassifiedFlow, type EngineOptions } from '../../src/pipeline/engine.js';

export interface EngineRun {
  flows: ClassifiedFlow[];
  engine: Engine;
  read: CaptureReadResult | null;
  error: CaptureFormatError | null;
}

export async function runEngineOnFile(path: string, opts: Partial<EngineOptions> = {}): Promise<EngineRun> {
  const flows: ClassifiedFlow[] = [];
  const engine = new Engine({ ...DEFAULT_ENGINE_OPTIONS, ...opts, onFlow: (f) => flows.push(f) });
  let read: CaptureReadResult | null = null;
  let error: CaptureFormatError | null = null;
  try {
    read = await readCaptureFile(path, engine);
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    error = err;
    read = err.partial ?? null;
  }
  engine.finish();
  return { flows, engine, read, error };
}
