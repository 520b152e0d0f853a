/**
 * Paired A/B timing of two portsniff builds (`npm run bench:ab`). On a shared machine whose speed
 * drifts (this repository's VM: the same run took 1.6 s and 3.2 s forty minutes apart), runs taken
 * one after the other do not compare. Each round here starts both builds AT THE SAME TIME on the
 * same file, each pinned to one core with `taskset`, and swaps the cores every round: a slowdown
 * of the host hits both alike and cancels in that round's B/A ratio. The report gives every
 * round and the median ratio of wall and CPU time.
 *
 *   npm run bench:ab -- --a /tmp/old/dist/cli/main.js --file F              # B: this tree's dist
 *   npm run bench:ab -- --a OLD --b NEW --file F --rounds 12 -- replay F --json --no-rules
 *
 * Options: --a CLI (required), --b CLI (default dist/cli/main.js of this tree), --file F (required),
 * --rounds N (default 8), --sequential (never paired: for a change that moves work onto a second
 * core, which pinning to one core would hide), --a-args / --b-args "ARGS" (arguments added to that
 * side's command only: one build against itself with and without an option, e.g. issue 14's
 * "full ÷ --no-rules" as a paired ratio). Arguments after `--` are the portsniff command (default `replay F
 * --json`; an argument `F` stands for the file). Without a second core or `taskset`, the builds run
 * one after the other, alternating which goes first, and the report says it is not paired.
 *
 * Pinned to one core, each build shares it with its own JIT compiler, which on an idle machine
 * would run on another core: the ratio compares total work (packet path plus compilation).
 * Exit status: 0, 1 if a command failed, 2 on a usage error. Nothing is written into the repository.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO, firstLine, measure, median, positiveInt, warmPageCache, which, type Measurement } from './run.js';

export interface AbOptions {
  a: string;
  b: string;
  file: string;
  rounds: number;
  /** portsniff arguments; 'F' stands for the file. */
  args: string[];
  /** Arguments added after `args` to A's command only, and to B's ('F' stands for the file there too). */
  argsA?: string[];
  argsB?: string[];
  /** Puts the file in the page cache before each round (injected by tests). */
  warm?: (file: string) => void;
  /** Whether rounds run pinned side by side (default: 2+ cores and taskset on PATH). */
  paired?: boolean;
  log?: (line: string) => void;
}

/** CPUs this process may run on (`Cpus_allowed_list`, e.g. "0-3,6"); [] when unknown. */
export function allowedCpus(statusText?: string): number[] {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return [];
    }
  }
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(text);
  if (!m) return [];
  const out: number[] = [];
  for (const part of m[1]!.split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    if (!Number.isInteger(lo)) return [];
    for (let c = lo!; c <= (hi ?? lo!); c++) out.push(c);
  }
  return out;
}

export interface AbRound {
  a: Measurement;
  b: Measurement;
  /** CPU each side was pinned to (-1 when not paired). */
  coreA: number;
  coreB: number;
}

export interface AbResult {
  options: AbOptions;
  paired: boolean;
  rounds: AbRound[];
  /** Median, min and max of the per-round B/A ratios; CPU null without GNU time. */
  wall: { median: number; min: number; max: number };
  cpu: { median: number; min: number; max: number } | null;
}

function spread(xs: number[]): { median: number; min: number; max: number } {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export async function runAb(o: AbOptions): Promise<AbResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const warm = o.warm ?? warmPageCache;
  const cpus = allowedCpus();
  const paired = o.paired ?? (cpus.length >= 2 && which('taskset') !== null);
  const [cpu0, cpu1] = cpus.length >= 2 ? [cpus[0]!, cpus[1]!] : [0, 1];
  for (const cli of [o.a, o.b]) if (!existsSync(cli)) throw new Error(`${cli}: no such file (a build's dist/cli/main.js)`);
  const withFile = (xs: readonly string[]): string[] => xs.map((x) => (x === 'F' ? o.file : x));
  const argsA = withFile([...o.args, ...(o.argsA ?? [])]);
  const argsB = withFile([...o.args, ...(o.argsB ?? [])]);
  const tmpA = mkdtempSync(join(tmpdir(), 'portsniff-ab-a-'));
  const tmpB = mkdtempSync(join(tmpdir(), 'portsniff-ab-b-'));
  const rounds: AbRound[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      warm(o.file);
      const coreA = paired ? (r % 2 === 0 ? cpu0 : cpu1) : -1;
      const coreB = paired ? (r % 2 === 0 ? cpu1 : cpu0) : -1;
      const argv = (cli: string, core: number, args: string[]): string[] =>
        core >= 0 ? ['taskset', '-c', String(core), process.execPath, cli, ...args] : [process.execPath, cli, ...args];
      let a: Measurement;
      let b: Measurement;
      if (paired) {
        [a, b] = await Promise.all([
          measure(argv(o.a, coreA, argsA), { captureStdout: false, tmp: tmpA }),
          measure(argv(o.b, coreB, argsB), { captureStdout: false, tmp: tmpB }),
        ]);
      } else if (r % 2 === 0) {
        a = await measure(argv(o.a, -1, argsA), { captureStdout: false, tmp: tmpA });
        warm(o.file);
        b = await measure(argv(o.b, -1, argsB), { captureStdout: false, tmp: tmpB });
      } else {
        b = await measure(argv(o.b, -1, argsB), { captureStdout: false, tmp: tmpB });
        warm(o.file);
        a = await measure(argv(o.a, -1, argsA), { captureStdout: false, tmp: tmpA });
      }
      for (const [name, m] of [['A', a], ['B', b]] as const) {
        if (m.exitCode !== 0) throw new Error(`round ${r + 1}: ${name} exited ${m.exitCode}: ${firstLine(m.stderr).slice(0, 200)}`);
      }
      rounds.push({ a, b, coreA, coreB });
      log(`  round ${r + 1}: A ${a.wall.toFixed(3)} s, B ${b.wall.toFixed(3)} s, B/A ${(b.wall / a.wall).toFixed(3)}`);
    }
  } finally {
    rmSync(tmpA, { recursive: true, force: true });
    rmSync(tmpB, { recursive: true, force: true });
  }
  const cpuRatios = rounds.every((x) => x.a.cpu !== null && x.b.cpu !== null && x.a.cpu > 0) ? rounds.map((x) => x.b.cpu! / x.a.cpu!) : null;
  return {
    options: o,
    paired,
    rounds,
    wall: spread(rounds.map((x) => x.b.wall / x.a.wall)),
    cpu: cpuRatios === null ? null : spread(cpuRatios),
  };
}

export function formatAb(res: AbResult): string {
  const o = res.options;
  const cell = (x: number | null, d: number): string => (x === null ? '-' : x.toFixed(d));
  const head = ['round', 'cores A,B', 'A wall s', 'B wall s', 'B/A wall', 'A CPU s', 'B CPU s', 'B/A CPU'];
  const rows = res.rounds.map((r, i) => [
    String(i + 1),
    res.paired ? `${r.coreA},${r.coreB}` : i % 2 === 0 ? 'A first' : 'B first',
    cell(r.a.wall, 3),
    cell(r.b.wall, 3),
    cell(r.b.wall / r.a.wall, 3),
    cell(r.a.cpu, 2),
    cell(r.b.cpu, 2),
    r.a.cpu !== null && r.b.cpu !== null && r.a.cpu > 0 ? cell(r.b.cpu / r.a.cpu, 3) : '-',
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((v, c) => v.padStart(widths[c]!)).join('  ');
  const ratio = (s: { median: number; min: number; max: number }): string => `${s.median.toFixed(3)} (range ${s.min.toFixed(3)}-${s.max.toFixed(3)})`;
  return [
    `A: ${o.a}${o.argsA !== undefined && o.argsA.length > 0 ? `   + ${o.argsA.join(' ')}` : ''}`,
    `B: ${o.b}${o.argsB !== undefined && o.argsB.length > 0 ? `   + ${o.argsB.join(' ')}` : ''}`,
    `command: node CLI ${o.args.join(' ')}   (F = ${o.file})`,
    res.paired
      ? `${res.rounds.length} paired rounds: A and B at the same time, one pinned to each core, cores swapped every round; page cache warmed before each round.`
      : `${res.rounds.length} rounds NOT paired (--sequential, or no 2 cores and taskset): one after the other, unpinned, alternating which goes first; compare with care.`,
    '',
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `median B/A wall time: ${ratio(res.wall)}`,
    `median B/A CPU time:  ${res.cpu === null ? '- (needs GNU time, Debian package time)' : ratio(res.cpu)}`,
    'Below 1: B is faster.',
  ].join('\n');
}

export function parseAbArgs(argv: string[]): AbOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      a: { type: 'string' },
      b: { type: 'string' },
      file: { type: 'string' },
      rounds: { type: 'string' },
      sequential: { type: 'boolean' },
      'a-args': { type: 'string' },
      'b-args': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.a === undefined) throw new RangeError('--a CLI is required (the dist/cli/main.js of the build to compare against)');
  if (values.file === undefined) throw new RangeError('--file F is required (a capture, e.g. from npm run bench:gen)');
  if (!existsSync(values.file)) throw new RangeError(`--file ${values.file}: no such file`);
  return {
    a: resolve(values.a),
    b: resolve(values.b ?? join(REPO, 'dist', 'cli', 'main.js')),
    file: resolve(values.file),
    rounds: positiveInt(values.rounds, '--rounds', 8),
    args: positionals.length > 0 ? positionals : ['replay', 'F', '--json'],
    ...(values.sequential === true ? { paired: false } : {}),
    ...(values['a-args'] !== undefined ? { argsA: words(values['a-args']) } : {}),
    ...(values['b-args'] !== undefined ? { argsB: words(values['b-args']) } : {}),
  };
}

/** "--no-rules --max-flows 16" as arguments (split at spaces; an option's value with a space cannot be given). */
function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

async function main(): Promise<void> {
  let o: AbOptions;
  try {
    o = parseAbArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench:ab: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const res = await runAb(o);
  process.stdout.write(`${formatAb(res)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:ab: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
