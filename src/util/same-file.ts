import { statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Whether two paths name one file: the same path, or (through links) the same inode. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false; // one does not exist yet: not the same file
  }
}
