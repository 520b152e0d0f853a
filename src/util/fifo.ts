/**
 * FIFOs (named pipes) and pipes: their opens and reads wait for the other end, so the readers and
 * writers that take them (capture/pipe-reader.ts, export/line-writer.ts) ask first.
 */
import * as fs from 'node:fs';

/** True when `path` names a FIFO (or a /dev/fd link to a pipe); false when it cannot be asked (the open then says why). */
export function isFifoPath(path: string): boolean {
  try {
    return fs.statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/** True when `fd` is a pipe or FIFO (false when it cannot be asked). */
export function isPipe(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFIFO();
  } catch {
    return false;
  }
}
