/** Whether the module at `moduleUrl` is the script this process was started with (argv[1]). */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isProcessEntry(moduleUrl: string): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    // The bin link in node_modules/.bin is a symlink: compare real paths.
    return realpathSync(arg) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
