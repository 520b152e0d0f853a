/**
 * A stand-alone `portsniff` for the live-capture tests until main.ts registers the live commands:
 * the same program name, the same SIGINT/SIGTERM -> AbortSignal handling and the same exit codes
 * as src/cli/main.ts, with only the live commands. Run with `node --import tsx`.
 */
import { Command, CommanderError } from 'commander';
import { registerLiveCommands } from '../../../src/cli/commands/live.js';
import type { CliIo } from '../../../src/cli/io.js';
import { PortsniffError, UsageError } from '../../../src/errors.js';
import { LineWriter } from '../../../src/export/line-writer.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  signals++;
  if (signals > 1) {
    process.stderr.write(`portsniff: second ${sig}, exiting without waiting\n`);
    process.exit(130);
  }
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const stdout = new LineWriter(1);
const io: CliIo = {
  stdout,
  stderr: (line) => process.stderr.write(line + '\n'),
  stdin: process.stdin,
  isTTY: false,
  signal: controller.signal,
};

let exitCode = 0;
const program = new Command('portsniff')
  .exitOverride()
  .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => io.stderr(s.replace(/\n$/, '')) });
registerLiveCommands(program, io, (c) => {
  exitCode = c;
});

async function run(): Promise<number> {
  try {
    await program.parseAsync(process.argv.slice(2), { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 2;
    if (err instanceof UsageError) {
      io.stderr(`portsniff: ${err.message}`);
      return 2;
    }
    if (err instanceof PortsniffError) {
      io.stderr(`portsniff: ${err.message}`);
      return 1;
    }
    io.stderr(`portsniff: internal error: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  } finally {
    stdout.flush();
  }
}

void run().then((code) => {
  stdout.flush();
  setImmediate(() => process.exit(code));
});
