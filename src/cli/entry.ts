/**
 * The bundled CLI's entry (scripts/bundle-cli.mjs bundles it into a CommonJS chunk, which
 * dist/cli/main.js loads through code-cache.ts): starts the worker threads the command will want
 * (prestart.ts), then loads the CLI itself (main.ts), whose ~40 ms of loading and set-up overlap the
 * threads' start-up. Nothing heavy may be imported statically here: every static import is loaded
 * before the threads start.
 */
import type { CliIo } from './io.js';
import { prestart } from './prestart.js';
import { isProcessEntry } from './process-entry.js';

export { isProcessEntry };

/** main.ts's main(), for code that imports the built CLI (the start-up tests). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  return (await import('./main.js')).main(argv, io);
}

/** Runs `portsniff ARGV` as this process's command. */
export function start(argv: string[]): void {
  prestart(argv);
  // Not awaited at the top level: the CLI's chunks import modules this entry shares with them, which
  // they could not while this module were still evaluating.
  void import('./main.js').then(({ runProcess }) => runProcess(argv));
}

// Run as a file of its own (tsc's dist/cli/entry.js); the bundle's main.js calls start() itself.
if (isProcessEntry(import.meta.url)) start(process.argv.slice(2));
