#!/usr/bin/env node
/**
 * The bundled CLI's entry (scripts/bundle-cli.mjs makes it dist/cli/main.js): starts the worker
 * threads the command will want (prestart.ts), then loads the CLI itself (main.ts), whose ~40 ms
 * of loading and set-up overlap the threads' start-up. Nothing heavy may be imported statically
 * here: every static import is loaded before the threads start.
 */
import type { CliIo } from './io.js';
import { prestart } from './prestart.js';
import { isProcessEntry } from './process-entry.js';

/** main.ts's main(), for code that imports the built CLI (the start-up tests). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  return (await import('./main.js')).main(argv, io);
}

if (isProcessEntry(import.meta.url)) {
  const argv = process.argv.slice(2);
  prestart(argv);
  // Not a top-level await: the CLI's chunks import modules this entry shares with them, which
  // they could not while this module were still evaluating.
  void import('./main.js').then(({ runProcess }) => runProcess(argv));
}
