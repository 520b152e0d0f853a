/**
 * Worker threads started before the CLI loads its own code (entry.ts): a worker's start-up
 * (~50 ms: Node's bootstrap, compiling the engine) then runs on another core while the main thread
 * loads, parses options and reads the rules, instead of after. The guess comes from a cheap scan
 * of the arguments, before commander has seen them: a wrong guess only costs an idle thread that
 * never keeps the process alive (worker-threads.ts keeps it unref'd), and the pipeline starts
 * threads of its own when it finds none waiting.
 */
import { availableParallelism } from 'node:os';
import { defaultWorkers, MAX_WORKERS } from '../pipeline/defaults.js';
import { prestartWorkers } from '../pipeline/worker-threads.js';
import { prestartPipeThread } from '../capture/pipe-reader.js';
import { isFifoPath, isPipe } from '../util/fifo.js';

/** Commands whose pipeline runs in worker threads (`--workers`). */
const PIPELINE_COMMANDS = new Set(['replay', 'live']);

/**
 * How many worker threads `portsniff ARGV` will start: the `--workers` value of a `replay` or
 * `live` command (`--workers N` or `--workers=N`), else the machine's default; 0 for every other
 * command, for help, and for a value commander will refuse.
 */
export function workersToPrestart(argv: readonly string[], cores: number = availableParallelism()): number {
  const command = argv[0];
  if (command === undefined || !PIPELINE_COMMANDS.has(command)) return 0;
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '-h' || a === '--help') return 0;
    if (a === '--workers') value = argv[i + 1] ?? '';
    else if (a.startsWith('--workers=')) value = a.slice('--workers='.length);
  }
  if (value === undefined) return defaultWorkers(cores);
  if (!/^\d+$/.test(value)) return 0;
  const n = Number(value);
  return n <= MAX_WORKERS ? n : 0;
}

/**
 * Whether `portsniff ARGV` may read stdin: a `replay` with a `-` among its arguments (it may be
 * `--flows -` instead: a wrong guess only costs a thread that reads nothing).
 */
export function mayReadStdin(argv: readonly string[]): boolean {
  if (argv[0] !== 'replay') return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv.slice(i + 1).includes('-');
    if (a === '-h' || a === '--help') return false;
    if (a === '-') return true;
  }
  return false;
}

/**
 * Whether `portsniff ARGV` may read a FIFO: a `replay` with an argument naming one (it may be
 * `--flows FIFO` instead: a wrong guess only costs a thread that reads nothing).
 */
export function mayReadFifo(argv: readonly string[]): boolean {
  if (argv[0] !== 'replay') return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return false;
    if (a !== '-' && !a.startsWith('--') && isFifoPath(a)) return true;
  }
  return false;
}

/** Starts the threads `portsniff ARGV` will want: pipeline workers (none from sources run by tsx), and the thread that drains a pipe (stdin's or a FIFO's). */
export function prestart(argv: readonly string[]): void {
  const n = workersToPrestart(argv);
  if (n > 0 && !import.meta.url.endsWith('.ts')) prestartWorkers(n);
  if ((mayReadStdin(argv) && isPipe(0)) || mayReadFifo(argv)) prestartPipeThread();
}
